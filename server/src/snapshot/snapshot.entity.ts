import { Entity, Enum, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

/** Who made a snapshot: a person, or one of the schedules of stable suites. */
export enum SnapshotKind {
  MANUAL = 'MANUAL',
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  YEARLY = 'YEARLY',
}
registerEnumType(SnapshotKind, { name: 'SnapshotKind', description: 'Who made a snapshot' });

/**
 * A frozen copy of one distribution's indices (`reprepro gensnapshot`), published under
 * `dists/<distribution>/snapshots/<name>/` and keeping its packages in the pool until it is deleted.
 */
@ObjectType({ description: 'A named, frozen state of one distribution that apt can follow' })
@Entity({ tableName: 'snapshot' })
@Unique({ properties: ['distribution', 'name'] })
export class Snapshot {
  [OptionalProps]?: 'createdAt' | 'expiresAt' | 'createdBy';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: 'Repository identity' })
  @Property({ type: 'text' })
  @Index()
  repository!: string;

  @Field({ description: '<codename>-<repo>-<suite>' })
  @Property({ type: 'text' })
  distribution!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => [String], { description: 'The components it has (those of the distribution when it was made)' })
  @Property({ type: 'json' })
  components!: string[];

  @Field(() => SnapshotKind)
  @Enum({ items: () => SnapshotKind, type: 'text' })
  kind!: SnapshotKind;

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the schedule deletes it; null: kept until deleted' })
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'A user name; null for a scheduled snapshot' })
  @Property({ type: 'text', nullable: true })
  createdBy: string | null = null;
}
