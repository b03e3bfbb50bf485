import { Entity, Enum, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from './role.js';

@ObjectType({ description: 'A person or robot that signs in or holds API tokens' })
@Entity({ tableName: 'app_user' })
export class User {
  [OptionalProps]?: 'createdAt' | 'passwordHash' | 'lastSignInAt' | 'hasPassword' | 'email';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field()
  @Property({ type: 'text' })
  @Unique()
  username!: string;

  @Field(() => Role)
  @Enum({ items: () => Role, type: 'text' })
  role!: Role;

  /** argon2id; null until a password is set (the local admin has only its token at first). */
  @Property({ type: 'text', nullable: true, hidden: true })
  passwordHash: string | null = null;

  @Field(() => String, { nullable: true, description: 'Where notifications of the user’s subscriptions go' })
  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastSignInAt: Date | null = null;

  @Field({ description: 'Whether the user can sign in with a password' })
  get hasPassword(): boolean {
    return this.passwordHash !== null;
  }

  signedIn(at = new Date()): void {
    this.lastSignInAt = at;
  }
}
