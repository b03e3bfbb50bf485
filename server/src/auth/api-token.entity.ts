import { Entity, Enum, ManyToOne, OptionalProps, PrimaryKey, Property, Unique, type Rel } from '@mikro-orm/postgresql';
import { Field, ID, ObjectType } from 'type-graphql';
import { User } from './user.entity.js';

export enum TokenKind {
  /** For the CLI and scripts; shown once, then only its hash is kept. */
  API = 'API',
  /** Behind the console's HTTP-only cookie. */
  SESSION = 'SESSION',
}

/** How often last use is written back: a token used on every request must not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

@ObjectType({ description: 'An API token; the secret itself is shown only when it is created' })
@Entity({ tableName: 'api_token' })
export class ApiToken {
  [OptionalProps]?: 'createdAt' | 'expiresAt' | 'lastUsedAt' | 'revokedAt' | 'username';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: Rel<User>;

  @Enum({ items: () => TokenKind, type: 'text' })
  kind!: TokenKind;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  /** SHA-256 of the secret, hex. The secret has 256 random bits, so a fast hash is enough. */
  @Property({ type: 'text', hidden: true })
  @Unique()
  secretHash!: string;

  @Field(() => Date)
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  @Field({ description: 'The user the token acts as' })
  get username(): string {
    return this.user.username;
  }

  isUsable(now = new Date()): boolean {
    return this.revokedAt === null && (this.expiresAt === null || this.expiresAt > now);
  }

  /** Records a use; returns whether the row changed and needs a flush. */
  used(now = new Date()): boolean {
    if (this.lastUsedAt && now.getTime() - this.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return false;
    this.lastUsedAt = now;
    return true;
  }

  revoke(now = new Date()): void {
    this.revokedAt ??= now;
  }
}
