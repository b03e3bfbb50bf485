import {
  Cascade,
  Collection,
  Entity,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/postgresql';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType({ description: 'A suite name, e.g. unstable' })
@Entity({ tableName: 'suite' })
export class Suite {
  @Field()
  @PrimaryKey({ type: 'text' })
  name!: string;
}

/** How a suite behaves in one layout. */
@ObjectType({ description: 'A suite in a layout and how it behaves' })
@Entity({ tableName: 'suite_option' })
@Unique({ properties: ['layout', 'suite'] })
export class SuiteOption {
  [OptionalProps]?:
    | 'uploadable'
    | 'experimental'
    | 'migratesTo'
    | 'rollbacks'
    | 'buildKeyringPackage'
    | 'notAutomatic'
    | 'butAutomaticUpgrades'
    | 'name';

  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Layout, { deleteRule: 'cascade' })
  layout!: Rel<Layout>;

  @ManyToOne(() => Suite)
  suite!: Rel<Suite>;

  @Field()
  get name(): string {
    return this.suite.name;
  }

  @Field()
  @Property({ type: 'boolean' })
  uploadable: boolean = true;

  @Field({ description: 'Experimental suites use the experimental version rule and never fail on QA' })
  @Property({ type: 'boolean' })
  experimental: boolean = false;

  @Field(() => String, { nullable: true, description: 'The suite packages migrate to' })
  @Property({ type: 'text', nullable: true })
  migratesTo: string | null = null;

  @Field(() => Int, { description: 'How many previous versions are kept as rollbacks' })
  @Property({ type: 'integer' })
  rollbacks: number = 0;

  @Field()
  @Property({ type: 'boolean' })
  buildKeyringPackage: boolean = false;

  @Field()
  @Property({ type: 'boolean' })
  notAutomatic: boolean = true;

  @Field()
  @Property({ type: 'boolean' })
  butAutomaticUpgrades: boolean = true;
}

/** The suites a repository has, their rules and the version rules. */
@ObjectType({ description: 'Which suites a repository has and the version rules' })
@Entity({ tableName: 'layout' })
export class Layout {
  [OptionalProps]?:
    | 'defaultVersion'
    | 'mandatoryVersionRegex'
    | 'experimentalDefaultVersion'
    | 'experimentalMandatoryVersionRegex'
    | 'metaDistributions';

  @Field()
  @PrimaryKey({ type: 'text' })
  name!: string;

  @OneToMany(() => SuiteOption, (o) => o.layout, { cascade: [Cascade.ALL], orphanRemoval: true })
  suiteOptions = new Collection<SuiteOption>(this);

  @Field({ description: 'Appended to versions of ports; %IDENTITY% is the repository, %CODEVERSION% e.g. 12' })
  @Property({ type: 'text' })
  defaultVersion: string = '~%IDENTITY%%CODEVERSION%+1';

  @Field({ description: 'Uploads to non-experimental suites must match this (searched, not anchored)' })
  @Property({ type: 'text' })
  mandatoryVersionRegex: string = '~%IDENTITY%%CODEVERSION%\\+[1-9]';

  @Field()
  @Property({ type: 'text' })
  experimentalDefaultVersion: string = '~%IDENTITY%%CODEVERSION%+0';

  @Field()
  @Property({ type: 'text' })
  experimentalMandatoryVersionRegex: string = '~%IDENTITY%%CODEVERSION%\\+0';

  @Field(() => GraphQLJSONObject, { description: 'Short names for distributions, e.g. {"unstable": "sid-unstable"}' })
  @Property({ type: 'json' })
  metaDistributions: Record<string, string> = {};
}
