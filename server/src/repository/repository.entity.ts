import {
  Collection,
  Entity,
  ManyToMany,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/postgresql';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Distribution } from '../distribution/distribution.entity.js';
import { Layout } from '../layout/layout.entity.js';
import { Configurable } from '../lifecycle/lifecycle.js';

/** An APT repository: a layout's suites for some distributions, served at /repositories/<identity>/. */
@ObjectType({ implements: Configurable, description: 'A signed APT repository served at /repositories/<identity>/' })
@Entity({ tableName: 'repository' })
export class Repository extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'allowUnauthenticatedUploads'
    | 'extraUploaderKeys'
    | 'notify'
    | 'notifyChangedBy'
    | 'notifyMaintainer'
    | 'allowEmailsTo'
    | 'releaseValidDays'
    | 'weeklySnapshots'
    | 'monthlySnapshots'
    | 'yearlySnapshots';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'Lower-case letters and digits; part of every distribution name' })
  @Property({ type: 'text' })
  @Unique()
  identity!: string;

  @Field(() => Layout)
  @ManyToOne(() => Layout)
  layout!: Rel<Layout>;

  @ManyToMany(() => Distribution)
  distributions = new Collection<Distribution>(this);

  @Field({ description: 'Accept unsigned uploads (mini-buildd’s sandbox repository "test")' })
  @Property({ type: 'boolean' })
  allowUnauthenticatedUploads: boolean = false;

  @Field({ description: 'More armored public keys whose uploads are accepted' })
  @Property({ type: 'text' })
  extraUploaderKeys: string = '';

  @Field(() => [String], { description: 'Who hears about every event of this repository' })
  @Property({ type: 'json' })
  notify: string[] = [];

  @Field({ description: 'Mail the upload’s Changed-By too, when allowEmailsTo matches it' })
  @Property({ type: 'boolean', default: false })
  notifyChangedBy: boolean = false;

  @Field({ description: 'Mail the package’s Maintainer too, when allowEmailsTo matches it' })
  @Property({ type: 'boolean', default: false })
  notifyMaintainer: boolean = false;

  @Field({ description: 'A regular expression the whole address must match to be mailed; empty: none' })
  @Property({ type: 'text', default: '' })
  allowEmailsTo: string = '';

  @Field(() => Int, {
    description:
      'Days each published Release stays valid (its Valid-Until); 0: no Valid-Until. Signed again when half of it has passed',
  })
  @Property({ type: 'integer', default: 0 })
  releaseValidDays: number = 0;

  // Scheduled snapshots of the stable suites (not experimental, migrating nowhere), mini-buildd §6.7.
  @Field(() => Int, { description: 'How many weekly snapshots of each stable suite to keep (0: none)' })
  @Property({ type: 'integer', default: 4 })
  weeklySnapshots: number = 4;

  @Field(() => Int, { description: 'How many monthly snapshots of each stable suite to keep (0: none)' })
  @Property({ type: 'integer', default: 12 })
  monthlySnapshots: number = 12;

  @Field(() => Int, { description: 'How many yearly snapshots of each stable suite to keep (0: none)' })
  @Property({ type: 'integer', default: 3 })
  yearlySnapshots: number = 3;
}
