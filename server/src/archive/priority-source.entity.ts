import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Rel } from '@mikro-orm/postgresql';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Source } from './source.entity.js';

/** A source with an APT pin priority, used as an extra source of a distribution. */
@ObjectType({ description: 'A source with an APT pin priority (500 for security, 1 for backports)' })
@Entity({ tableName: 'priority_source' })
@Unique({ properties: ['source', 'priority'] })
export class PrioritySource {
  [OptionalProps]?: 'key';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field(() => Source)
  @ManyToOne(() => Source, { deleteRule: 'cascade' })
  @Index()
  source!: Rel<Source>;

  @Field(() => Int)
  @Property({ type: 'integer' })
  priority!: number;

  @Field()
  get key(): string {
    return `${this.source.key}:${this.priority}`;
  }
}
