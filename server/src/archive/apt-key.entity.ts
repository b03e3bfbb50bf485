import { Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { Configurable } from '../lifecycle/lifecycle.js';

/** A public key that signs a source's Release files. */
@ObjectType({ implements: Configurable, description: 'A public key that signs an archive’s Release files' })
@Entity({ tableName: 'apt_key' })
export class AptKey extends Configurable {
  [OptionalProps]?: 'status' | 'checkState' | 'checkedAt' | 'problem' | 'userIds' | 'expiresAt' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field({ description: '40 hex digits' })
  @Property({ type: 'text' })
  @Unique()
  fingerprint!: string;

  @Field({ description: 'ASCII-armored public key' })
  @Property({ type: 'text' })
  armored!: string;

  @Field(() => [String])
  @Property({ type: 'json' })
  userIds: string[] = [];

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  createdAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;
}
