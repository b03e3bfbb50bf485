import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType({ description: 'What this debyard instance is and how busy it is' })
export class Status {
  @Field()
  version!: string;

  @Field({ description: 'The instance identity; it names the archive and its keyring package' })
  identity!: string;

  @Field({ description: 'Base URL of the web console, the API and the repositories' })
  httpUrl!: string;

  @Field({ description: 'Where dput uploads go' })
  ftpUrl!: string;

  @Field({ description: 'Whether incoming, packaging and building run (HTTP always does)' })
  engineRunning!: boolean;

  @Field(() => Float, { description: 'Busy build slots divided by slots, 0 to 1' })
  load!: number;

  @Field(() => Float)
  uptimeSeconds!: number;

  @Field(() => Date)
  startedAt!: Date;
}
