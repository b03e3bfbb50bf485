import { Collection, Entity, ManyToMany, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Configurable } from '../lifecycle/lifecycle.js';
import { AptKey } from './apt-key.entity.js';
import { Archive } from './archive.entity.js';

/** One `dists/<codename>` of an origin, e.g. Debian bookworm or Debian bookworm-security. */
@ObjectType({ implements: Configurable, description: 'A release of an origin, e.g. Debian bookworm' })
@Entity({ tableName: 'source' })
@Unique({ properties: ['origin', 'codename'] })
export class Source extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'extraIdentifiers'
    | 'codeversionOverride'
    | 'checkValidUntil'
    | 'removeFromComponent'
    | 'codeversion'
    | 'architectures'
    | 'components'
    | 'releaseDate'
    | 'archiveUrl'
    | 'key'
    | 'effectiveCodeversion';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'The Release file’s Origin, e.g. Debian' })
  @Property({ type: 'text' })
  origin!: string;

  @Field({ description: 'The directory under dists/, e.g. bookworm or bookworm-security' })
  @Property({ type: 'text' })
  codename!: string;

  @Field(() => GraphQLJSONObject, {
    description: 'More Release fields that must match, e.g. {"Label": "Debian-Security"}',
  })
  @Property({ type: 'json' })
  extraIdentifiers: Record<string, string> = {};

  @ManyToMany(() => AptKey)
  aptKeys = new Collection<AptKey>(this);

  @ManyToMany(() => Archive)
  archives = new Collection<Archive>(this);

  @Field({ description: 'Used instead of the guessed code version when set' })
  @Property({ type: 'text' })
  codeversionOverride: string = '';

  @Field()
  @Property({ type: 'boolean' })
  checkValidUntil: boolean = true;

  @Field({ description: 'Prefix the archive puts before component names, e.g. updates/ on old security archives' })
  @Property({ type: 'text' })
  removeFromComponent: string = '';

  // What the last check found.
  @Field({ description: '12 for bookworm, ~SID for sid: part of version rules' })
  @Property({ type: 'text' })
  codeversion: string = '';

  @Field(() => [String])
  @Property({ type: 'json' })
  architectures: string[] = [];

  @Field(() => [String])
  @Property({ type: 'json' })
  components: string[] = [];

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  releaseDate: Date | null = null;

  @Field({ description: 'The archive that answered fastest in the last check' })
  @Property({ type: 'text' })
  archiveUrl: string = '';

  /** `Debian:bookworm`: how people and the CLI name a source. */
  @Field()
  get key(): string {
    return `${this.origin}:${this.codename}`;
  }

  get effectiveCodeversion(): string {
    return this.codeversionOverride || this.codeversion;
  }
}
