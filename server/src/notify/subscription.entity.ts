import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Rel } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { User } from '../auth/user.entity.js';

/**
 * A user's wish to hear about a source package and/or a distribution; an empty filter means all.
 * Filters are stored as '' rather than null so that one unique index covers "everything" too.
 */
@ObjectType({ description: 'Mail about a source package and/or distribution (null: all) to a user' })
@Entity({ tableName: 'package_subscription' })
@Unique({ properties: ['user', 'sourceFilter', 'distributionFilter'] })
export class PackageSubscription {
  [OptionalProps]?: 'createdAt' | 'source' | 'distribution' | 'username';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Property({ type: 'text', fieldName: 'source' })
  sourceFilter: string = '';

  @Property({ type: 'text', fieldName: 'distribution' })
  distributionFilter: string = '';

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field({ description: 'Whose subscription it is' })
  get username(): string {
    return this.user.username;
  }

  @Field(() => String, { nullable: true, description: 'The source package; null: every source' })
  get source(): string | null {
    return this.sourceFilter || null;
  }

  @Field(() => String, { nullable: true, description: 'The distribution; null: every distribution' })
  get distribution(): string | null {
    return this.distributionFilter || null;
  }

  describe(): string {
    return `${this.source ?? 'every source'} in ${this.distribution ?? 'every distribution'}`;
  }
}
