import { Entity, Enum, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DomainError } from '../graphql/errors.js';
import { Role } from './role.js';

/** Whether a user may act: a sign-up waits for approval; a deactivated user keeps their name but does nothing. */
export enum UserState {
  /** Signed up; waits for staff to approve (or reject) the account. */
  PENDING = 'PENDING',
  ACTIVE = 'ACTIVE',
  /** Switched off by an administrator: no sign-in, no token, no upload. */
  DEACTIVATED = 'DEACTIVATED',
}
registerEnumType(UserState, { name: 'UserState', description: 'PENDING (signed up) → ACTIVE ⇄ DEACTIVATED' });

@ObjectType({ description: 'A person or robot that signs in or holds API tokens' })
@Entity({ tableName: 'app_user' })
export class User {
  [OptionalProps]?:
    'createdAt' | 'passwordHash' | 'lastSignInAt' | 'hasPassword' | 'email' | 'state' | 'isActive' | 'inactiveReason';

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

  @Field(() => UserState)
  @Enum({ items: () => UserState, type: 'text', default: UserState.ACTIVE })
  state: UserState = UserState.ACTIVE;

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

  get isActive(): boolean {
    return this.state === UserState.ACTIVE;
  }

  /** Why the user may not act, for messages: null when active. */
  get inactiveReason(): string | null {
    switch (this.state) {
      case UserState.ACTIVE:
        return null;
      case UserState.PENDING:
        return `user ${this.username} waits for approval`;
      case UserState.DEACTIVATED:
        return `user ${this.username} is deactivated`;
    }
  }

  approve(): void {
    if (this.state !== UserState.PENDING)
      throw new DomainError('USER_STATE', `user ${this.username} is ${this.state}, not waiting for approval`);
    this.state = UserState.ACTIVE;
  }

  deactivate(): void {
    if (this.state === UserState.PENDING)
      throw new DomainError('USER_STATE', `user ${this.username} waits for approval: reject the sign-up instead`);
    this.state = UserState.DEACTIVATED;
  }

  reactivate(): void {
    if (this.state === UserState.PENDING)
      throw new DomainError('USER_STATE', `user ${this.username} waits for approval: approve the sign-up instead`);
    this.state = UserState.ACTIVE;
  }
}
