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
import { Field, ID, ObjectType } from 'type-graphql';
import { User } from '../auth/user.entity.js';
import { ConfigStatus, Configurable } from '../lifecycle/lifecycle.js';
import { Repository } from '../repository/repository.entity.js';

/** An OpenPGP key whose signed uploads a repository accepts, tied to the user it belongs to. */
@ObjectType({ implements: Configurable, description: 'A user’s upload key and the repositories it may upload to' })
@Entity({ tableName: 'uploader' })
export class Uploader extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'userIds'
    | 'expiresAt'
    | 'algorithm'
    | 'user'
    | 'username'
    | 'repositoryIdentities'
    | 'usable';

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

  /** Null until set; such a key cannot be prepared. */
  @ManyToOne(() => User, { deleteRule: 'cascade', nullable: true })
  user: Rel<User> | null = null;

  @ManyToMany(() => Repository)
  repositories = new Collection<Repository>(this);

  @Field(() => [String])
  @Property({ type: 'json' })
  userIds: string[] = [];

  @Field({ description: 'e.g. ed25519 or rsa4096' })
  @Property({ type: 'text' })
  algorithm: string = '';

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'The user the key belongs to' })
  get username(): string | null {
    return this.user?.username ?? null;
  }

  @Field(() => [String], { name: 'repositories', description: 'The repositories it may upload to (staff grant them)' })
  get repositoryIdentities(): string[] {
    return this.repositories.isInitialized()
      ? this.repositories
          .getItems()
          .map((r) => r.identity)
          .sort()
      : [];
  }

  @Field({
    description: 'Whether uploads signed by it are accepted now: active, its user active, repositories granted',
  })
  get usable(): boolean {
    return this.status === ConfigStatus.ACTIVE && Boolean(this.user?.isActive) && this.repositoryIdentities.length > 0;
  }
}
