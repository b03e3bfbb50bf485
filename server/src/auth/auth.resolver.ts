import { Arg, Authorized, Ctx, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { type Context, currentUser } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { ApiToken } from './api-token.entity.js';
import { SignUpPolicy } from '../instance/daemon-config.entity.js';
import { Role } from './role.js';
import { User } from './user.entity.js';

@ObjectType({ description: 'A new API token and its secret, which is shown only this once' })
class CreatedToken {
  @Field(() => ApiToken)
  token!: ApiToken;

  @Field({ description: 'Pass it as `Authorization: Bearer <secret>`, or to the CLI as --token / DEBYARD_TOKEN' })
  secret!: string;
}

@Resolver()
export class AuthResolver {
  @Query(() => User, { nullable: true, description: 'The signed-in user, or null' })
  me(@Ctx() ctx: Context): User | null {
    return ctx.principal?.user ?? null;
  }

  @Mutation(() => User, { description: 'Signs in with a password and sets the console’s session cookie' })
  async signIn(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('password') password: string,
  ): Promise<User> {
    if (!ctx.cookie) throw new DomainError('BAD_USER_INPUT', 'sign in over HTTP, not over a WebSocket');
    const { user, secret, expiresAt } = await ctx.services.auth.signIn(ctx.em, username, password);
    ctx.cookie.set(secret, expiresAt);
    return user;
  }

  @Query(() => SignUpPolicy, { description: 'Whether people may sign up here (anonymous)' })
  signUpPolicy(@Ctx() ctx: Context): Promise<SignUpPolicy> {
    return ctx.services.auth.signUpPolicy(ctx.em);
  }

  // Anonymous on purpose, like signIn: it is how somebody without an account gets one.
  @Mutation(() => User, {
    description:
      'Creates your own uploader account: ACTIVE when sign-up is OPEN, PENDING (staff approve it) under APPROVAL. ' +
      'Refused: SIGN_UP_CLOSED, ALREADY_EXISTS (the name is taken), BAD_USER_INPUT (extensions.field: username, password, email)',
  })
  signUp(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('password') password: string,
    @Arg('email', () => String, { nullable: true }) email?: string | null,
  ): Promise<User> {
    return ctx.services.auth.signUp(ctx.em, { username, password, email });
  }

  @Authorized(Role.STAFF)
  @Query(() => [User], { description: 'Sign-ups that wait for approval, oldest first' })
  signUpRequests(@Ctx() ctx: Context): Promise<User[]> {
    return ctx.services.auth.listPending(ctx.em);
  }

  @Authorized(Role.STAFF)
  @Mutation(() => User, { description: 'Approves a sign-up: the account becomes an active uploader' })
  approveUser(@Ctx() ctx: Context, @Arg('username') username: string): Promise<User> {
    return ctx.services.auth.approve(ctx.em, currentUser(ctx), username);
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Boolean, { description: 'Rejects a sign-up: the account is removed and its name free again' })
  async rejectUser(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<boolean> {
    await ctx.services.auth.reject(ctx.em, currentUser(ctx), username, reason ?? null);
    return true;
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User, {
    description: 'Deactivates a user (no sign-in, no token, no upload, at once) or activates them again',
  })
  userSetActive(@Ctx() ctx: Context, @Arg('username') username: string, @Arg('active') active: boolean): Promise<User> {
    return ctx.services.auth.setActive(ctx.em, currentUser(ctx), username, active);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User, { description: 'Gives a user another role; the last active administrator keeps theirs' })
  userSetRole(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('role', () => Role) role: Role,
  ): Promise<User> {
    return ctx.services.auth.setRole(ctx.em, currentUser(ctx), username, role);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Ends this session (or revokes the token used for the request)' })
  async signOut(@Ctx() ctx: Context): Promise<boolean> {
    await ctx.services.auth.signOut(ctx.em, ctx.principal!);
    ctx.cookie?.clear();
    return true;
  }

  @Authorized(Role.ADMIN)
  @Query(() => [User])
  users(@Ctx() ctx: Context): Promise<User[]> {
    return ctx.services.auth.listUsers(ctx.em);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User)
  userAdd(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('role', () => Role) role: Role,
    @Arg('password', () => String, { nullable: true }) password?: string | null,
  ): Promise<User> {
    return ctx.services.auth.createUser(ctx.em, currentUser(ctx), { username, role, password });
  }

  @Authorized()
  @Mutation(() => User, { description: 'Sets a password: your own, or anybody’s as an administrator' })
  userSetPassword(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('password') password: string,
  ): Promise<User> {
    return ctx.services.auth.setPassword(ctx.em, currentUser(ctx), username, password);
  }

  @Authorized()
  @Mutation(() => User, {
    description: 'Sets where notifications go: your own address, or anybody’s as an administrator',
  })
  userSetEmail(
    @Ctx() ctx: Context,
    @Arg('username') username: string,
    @Arg('email', () => String, { nullable: true, description: 'Null or empty: no mail' }) email?: string | null,
  ): Promise<User> {
    return ctx.services.auth.setEmail(ctx.em, currentUser(ctx), username, email ?? null);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Boolean)
  async userRemove(@Ctx() ctx: Context, @Arg('username') username: string): Promise<boolean> {
    await ctx.services.auth.removeUser(ctx.em, currentUser(ctx), username);
    return true;
  }

  @Authorized()
  @Query(() => [ApiToken], { description: 'Your API tokens; an administrator sees everybody’s' })
  tokens(@Ctx() ctx: Context): Promise<ApiToken[]> {
    return ctx.services.auth.listTokens(ctx.em, currentUser(ctx));
  }

  @Authorized()
  @Mutation(() => CreatedToken)
  tokenCreate(
    @Ctx() ctx: Context,
    @Arg('name') name: string,
    @Arg('expiresInDays', () => Int, { nullable: true }) expiresInDays?: number | null,
    @Arg('username', () => String, { nullable: true, description: 'Administrators: create it for this user' })
    username?: string | null,
  ): Promise<CreatedToken> {
    return ctx.services.auth.createToken(ctx.em, currentUser(ctx), { name, expiresInDays, username });
  }

  @Authorized()
  @Mutation(() => ApiToken)
  tokenRevoke(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<ApiToken> {
    if (!/^\d{1,9}$/.test(id)) throw new DomainError('BAD_USER_INPUT', `"${id}" is not a token id`);
    return ctx.services.auth.revokeToken(ctx.em, currentUser(ctx), Number(id));
  }
}
