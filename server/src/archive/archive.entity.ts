import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, Float, ID, ObjectType } from 'type-graphql';
import { Configurable } from '../lifecycle/lifecycle.js';

/** A Debian mirror (or any APT archive): `url` ends in exactly one slash. */
@ObjectType({ implements: Configurable, description: 'An APT archive (a mirror) sources are fetched from' })
@Entity({ tableName: 'archive' })
export class Archive extends Configurable {
  [OptionalProps]?: 'status' | 'checkState' | 'checkedAt' | 'problem' | 'pingMs';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field()
  @Property({ type: 'text' })
  @Unique()
  url!: string;

  @Field(() => Float, { nullable: true, description: 'Round trip of the last check in ms' })
  @Property({ type: 'double', nullable: true })
  pingMs: number | null = null;
}
