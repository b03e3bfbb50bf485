import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import argon2 from 'argon2';
import { UniqueConstraintViolationException, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { DomainError } from '../graphql/errors.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import type { Logger } from '../log.js';
import { ApiToken, TokenKind } from './api-token.entity.js';
import { ADMIN_TOKEN_FILE, LOCAL_ADMIN, SESSION_TTL_MS } from './constants.js';
import { Role, roleIncludes } from './role.js';
import { User, UserState } from './user.entity.js';
import { DaemonConfig, DEFAULT_SIGN_UP_POLICY, SignUpPolicy } from '../instance/daemon-config.entity.js';

const TOKEN_PREFIX = 'dy_';
const USERNAME = /^[a-z][a-z0-9._-]{0,31}$/;
const MIN_PASSWORD_LENGTH = 10;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;

/** Who is asking: a user and the token that proved it, or nobody. */
export interface Principal {
  user: User;
  token: ApiToken;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

/** Verifying against this when the user does not exist keeps sign-in timing from revealing user names. */
let dummyHash: Promise<string> | undefined;

export class AuthService {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventService,
    private readonly logger: Logger,
  ) {}

  /** Resolves a bearer token or session cookie; an unusable one is an error, never a silent anonymous. */
  async authenticate(em: EntityManager, secret: string): Promise<Principal> {
    const token = await em.findOne(ApiToken, { secretHash: hashSecret(secret) }, { populate: ['user'] });
    if (!token || !token.isUsable())
      throw new DomainError(
        'INVALID_TOKEN',
        'the API token or session is invalid, expired or revoked: sign in again or create a new token with `debyard token create`',
      );
    const inactive = token.user.inactiveReason;
    if (inactive)
      throw new DomainError('INVALID_TOKEN', `${inactive}: its tokens and sessions do not work until it is active`);
    if (token.used()) await em.flush();
    return { user: token.user, token };
  }

  /**
   * Why a principal that was valid when a connection opened no longer is (its token revoked or expired, its
   * user removed), or null while it still holds: long-lived connections ask again when that may have changed.
   */
  async invalidReason(em: EntityManager, principal: Principal): Promise<string | null> {
    const token = await em.findOne(ApiToken, principal.token.id, { populate: ['user'] });
    if (!token) return `user ${principal.user.username} was removed`;
    if (token.revokedAt) return `the ${token.kind === TokenKind.SESSION ? 'session' : 'token'} was revoked`;
    if (!token.isUsable()) return `the ${token.kind === TokenKind.SESSION ? 'session' : 'token'} expired`;
    return token.user.inactiveReason;
  }

  async signIn(
    em: EntityManager,
    username: string,
    password: string,
  ): Promise<{ user: User; secret: string; expiresAt: Date }> {
    const user = await em.findOne(User, { username });
    dummyHash ??= argon2.hash(crypto.randomBytes(16).toString('hex'));
    const ok = user?.passwordHash
      ? await argon2.verify(user.passwordHash, password)
      : (await argon2.verify(await dummyHash, password), false);
    if (!user || !ok) throw new DomainError('INVALID_CREDENTIALS', 'wrong user name or password');
    // Only after the password: the state of an account is nobody else's business.
    if (user.state === UserState.PENDING)
      throw new DomainError('ACCOUNT_INACTIVE', 'your account waits for approval by the staff: try again later');
    if (user.state === UserState.DEACTIVATED)
      throw new DomainError('ACCOUNT_INACTIVE', 'your account is deactivated: ask an administrator');
    user.signedIn();
    const secret = newSecret();
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    em.create(ApiToken, {
      user,
      kind: TokenKind.SESSION,
      name: 'console session',
      secretHash: hashSecret(secret),
      expiresAt,
    });
    await em.flush();
    return { user, secret, expiresAt };
  }

  async signOut(em: EntityManager, principal: Principal): Promise<void> {
    principal.token.revoke();
    await em.flush();
  }

  async listUsers(em: EntityManager): Promise<User[]> {
    return em.find(User, {}, { orderBy: { username: 'asc' } });
  }

  async createUser(
    em: EntityManager,
    actor: User | null,
    input: { username: string; role: Role; password?: string | null },
  ): Promise<User> {
    checkUsername(input.username);
    const passwordHash = input.password != null ? await hashPassword(input.password) : null;
    return em.transactional(async (tx) => {
      if (await tx.count(User, { username: input.username }))
        throw new DomainError('ALREADY_EXISTS', `user "${input.username}" already exists`, { field: 'username' });
      const user = tx.create(User, { username: input.username, role: input.role, passwordHash });
      await tx.flush();
      await this.events.record(tx, EventType.USER_CREATED, `user ${user.username} created as ${user.role}`, {
        username: user.username,
        role: user.role,
        by: actor?.username ?? null,
      });
      return user;
    });
  }

  /** The daemon's sign-up policy (APPROVAL until the daemon is configured). */
  async signUpPolicy(em: EntityManager): Promise<SignUpPolicy> {
    return (await em.findOne(DaemonConfig, 1))?.signUp ?? DEFAULT_SIGN_UP_POLICY;
  }

  /**
   * Creates an uploader account for whoever asks: active at once when sign-up is OPEN, waiting for staff
   * when it is APPROVAL, refused when CLOSED. Refuses taken names, bad names, short passwords.
   */
  async signUp(em: EntityManager, input: { username: string; password: string; email?: string | null }): Promise<User> {
    const policy = await this.signUpPolicy(em);
    if (policy === SignUpPolicy.CLOSED)
      throw new DomainError('SIGN_UP_CLOSED', 'sign-up is switched off here: ask an administrator for an account');
    checkUsername(input.username);
    const email = checkEmail(input.email);
    // Somebody new picks this one: a password made of the user name is the first one guessed.
    if (input.password.toLowerCase().includes(input.username.toLowerCase()))
      throw new DomainError('BAD_USER_INPUT', 'the password contains the user name: choose one that does not', {
        field: 'password',
      });
    const passwordHash = await hashPassword(input.password);
    const taken = () =>
      new DomainError('ALREADY_EXISTS', `the user name "${input.username}" is taken: choose another one`, {
        field: 'username',
      });
    try {
      return await em.transactional(async (tx) => {
        if (await tx.count(User, { username: input.username })) throw taken();
        const state = policy === SignUpPolicy.OPEN ? UserState.ACTIVE : UserState.PENDING;
        const user = tx.create(User, { username: input.username, role: Role.UPLOADER, passwordHash, email, state });
        await tx.flush();
        await this.events.record(
          tx,
          EventType.USER_SIGNED_UP,
          state === UserState.PENDING
            ? `${user.username} signed up and waits for approval`
            : `${user.username} signed up`,
          { username: user.username, state, email },
        );
        return user;
      });
    } catch (err) {
      // Two people signing up with one name at the same moment: the unique index decides.
      if (err instanceof UniqueConstraintViolationException) throw taken();
      throw err;
    }
  }

  /** Accounts that wait for approval, oldest first. */
  async listPending(em: EntityManager): Promise<User[]> {
    return em.find(User, { state: UserState.PENDING }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** Staff approve a sign-up: the account becomes an active uploader. */
  async approve(em: EntityManager, actor: User, username: string): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      user.approve();
      await tx.flush();
      await this.events.record(tx, EventType.USER_APPROVED, `sign-up of ${username} approved by ${actor.username}`, {
        username,
        by: actor.username,
      });
      return user;
    });
  }

  /** Staff reject a sign-up: the account is removed, its name free again. */
  async reject(em: EntityManager, actor: User, username: string, reason: string | null): Promise<void> {
    await em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      if (user.state !== UserState.PENDING)
        throw new DomainError(
          'USER_STATE',
          `user ${username} is ${user.state}, not waiting for approval: deactivate or remove the account instead`,
        );
      tx.remove(user);
      await tx.flush();
      const why = reason?.trim() || null;
      await this.events.record(
        tx,
        EventType.USER_REJECTED,
        `sign-up of ${username} rejected by ${actor.username}${why ? `: ${why}` : ''}`,
        { username, reason: why, by: actor.username },
      );
    });
  }

  /** Switches a user off (no sign-in, tokens or uploads) or on again; the last active admin stays. */
  async setActive(em: EntityManager, actor: User, username: string, active: boolean): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      if (!active) {
        await this.keepAnAdmin(tx, user, 'deactivate');
        user.deactivate();
      } else user.reactivate();
      await tx.flush();
      await this.events.record(
        tx,
        EventType.USER_CHANGED,
        `${username} ${active ? 'activated' : 'deactivated'} by ${actor.username}`,
        { username, change: active ? 'activated' : 'deactivated', state: user.state, by: actor.username },
      );
      return user;
    });
  }

  async setRole(em: EntityManager, actor: User, username: string, role: Role): Promise<User> {
    return em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      if (user.role === role) return user;
      if (role !== Role.ADMIN) await this.keepAnAdmin(tx, user, 'demote');
      const from = user.role;
      user.role = role;
      await tx.flush();
      await this.events.record(tx, EventType.USER_CHANGED, `${username} is ${role} now (was ${from})`, {
        username,
        change: 'role',
        from,
        role,
        by: actor.username,
      });
      return user;
    });
  }

  private async keepAnAdmin(em: EntityManager, user: User, what: string): Promise<void> {
    if (user.role !== Role.ADMIN || !user.isActive) return;
    if ((await em.count(User, { role: Role.ADMIN, state: UserState.ACTIVE })) === 1)
      throw new DomainError(
        'LAST_ADMIN',
        `"${user.username}" is the last active administrator: make someone else admin before you ${what} them`,
      );
  }

  /** Sets where a user's notifications go (null: none): one's own, or anybody's as an administrator. */
  async setEmail(em: EntityManager, actor: User, username: string, email: string | null): Promise<User> {
    if (actor.username !== username && !roleIncludes(actor.role, Role.ADMIN))
      forbidden('only an administrator can set another user’s e-mail address');
    const address = checkEmail(email);
    return em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      user.email = address;
      await tx.flush();
      await this.events.record(tx, EventType.USER_CHANGED, `e-mail address of ${username} set`, {
        username,
        change: 'email',
        by: actor.username,
      });
      return user;
    });
  }

  async setPassword(em: EntityManager, actor: User, username: string, password: string): Promise<User> {
    if (actor.username !== username && !roleIncludes(actor.role, Role.ADMIN))
      forbidden('only an administrator can set another user’s password');
    const passwordHash = await hashPassword(password);
    return em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      user.passwordHash = passwordHash;
      await tx.flush();
      await this.events.record(tx, EventType.USER_CHANGED, `password of ${username} set`, {
        username,
        change: 'password',
        by: actor.username,
      });
      return user;
    });
  }

  async removeUser(em: EntityManager, actor: User, username: string): Promise<void> {
    await em.transactional(async (tx) => {
      const user = await this.requireUser(tx, username);
      if (user.role === Role.ADMIN && (await tx.count(User, { role: Role.ADMIN })) === 1)
        throw new DomainError('LAST_ADMIN', `"${username}" is the last administrator: make someone else admin first`);
      tx.remove(user);
      await tx.flush();
      await this.events.record(tx, EventType.USER_REMOVED, `user ${username} removed`, {
        username,
        by: actor.username,
      });
    });
  }

  /** Tokens of `actor`, or everybody's for an administrator; sessions are not listed. */
  async listTokens(em: EntityManager, actor: User): Promise<ApiToken[]> {
    return em.find(
      ApiToken,
      { kind: TokenKind.API, ...(roleIncludes(actor.role, Role.ADMIN) ? {} : { user: actor }) },
      { populate: ['user'], orderBy: { id: 'asc' } },
    );
  }

  async createToken(
    em: EntityManager,
    actor: User,
    input: { name: string; expiresInDays?: number | null; username?: string | null },
  ): Promise<{ token: ApiToken; secret: string }> {
    const name = input.name.trim();
    if (!name || name.length > 100)
      throw new DomainError('BAD_USER_INPUT', 'give the token a name of 1 to 100 characters, e.g. "ci on host x"');
    const days = input.expiresInDays;
    if (days != null && (!Number.isInteger(days) || days < 1 || days > 3650))
      throw new DomainError('BAD_USER_INPUT', `expiresInDays must be a whole number from 1 to 3650, not ${days}`);
    return em.transactional(async (tx) => {
      const owner =
        input.username && input.username !== actor.username
          ? roleIncludes(actor.role, Role.ADMIN)
            ? await this.requireUser(tx, input.username)
            : forbidden('only an administrator can create tokens for another user')
          : await tx.findOneOrFail(User, actor.id);
      const secret = newSecret();
      const token = tx.create(ApiToken, {
        user: owner,
        kind: TokenKind.API,
        name,
        secretHash: hashSecret(secret),
        expiresAt: days != null ? new Date(Date.now() + days * 24 * 3600 * 1000) : null,
      });
      await tx.flush();
      await this.events.record(tx, EventType.TOKEN_CREATED, `token "${name}" created for ${owner.username}`, {
        tokenId: token.id,
        name,
        username: owner.username,
        expiresAt: token.expiresAt?.toISOString() ?? null,
        by: actor.username,
      });
      return { token, secret };
    });
  }

  async revokeToken(em: EntityManager, actor: User, id: number): Promise<ApiToken> {
    return em.transactional(async (tx) => {
      const token = await tx.findOne(ApiToken, { id, kind: TokenKind.API }, { populate: ['user'] });
      if (!token) throw new DomainError('NOT_FOUND', `there is no token ${id}: see \`debyard token list\``);
      if (token.user.id !== actor.id && !roleIncludes(actor.role, Role.ADMIN))
        forbidden(`token ${id} is not yours; only an administrator can revoke it`);
      token.revoke();
      await tx.flush();
      await this.events.record(tx, EventType.TOKEN_REVOKED, `token "${token.name}" of ${token.username} revoked`, {
        tokenId: token.id,
        name: token.name,
        username: token.username,
        by: actor.username,
      });
      return token;
    });
  }

  /**
   * Makes sure the local administrator exists and `<dataDir>/admin.token` (mode 0600) holds a usable token
   * for it, so that root or the daemon's user on this host can run `debyard` as admin without typing anything.
   */
  async ensureLocalAdmin(dataDir: string): Promise<void> {
    const file = path.join(dataDir, ADMIN_TOKEN_FILE);
    const em = this.orm.em.fork();
    const existing = await fs.readFile(file, 'utf8').catch(() => '');
    if (existing.trim()) {
      const token = await em.findOne(ApiToken, { secretHash: hashSecret(existing.trim()) });
      if (token?.isUsable()) return;
    }
    let admin = await em.findOne(User, { username: LOCAL_ADMIN });
    admin ??= await this.createUser(em, null, { username: LOCAL_ADMIN, role: Role.ADMIN });
    const { secret } = await this.createToken(em, admin, { name: `local admin (${file})` });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, secret + '\n', { mode: 0o600 });
    await fs.rename(tmp, file);
    this.logger.info({ file }, 'wrote a new local admin token');
  }

  private async requireUser(em: EntityManager, username: string): Promise<User> {
    const user = await em.findOne(User, { username });
    if (!user) throw new DomainError('NOT_FOUND', `there is no user "${username}": see \`debyard user list\``);
    return user;
  }
}

async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new DomainError(
      'BAD_USER_INPUT',
      `the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`,
      { field: 'password' },
    );
  return argon2.hash(password, { type: argon2.argon2id });
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username))
    throw new DomainError(
      'BAD_USER_INPUT',
      `"${username}" is not a valid user name: lower-case letters, digits and ._- (up to 32), starting with a letter`,
      { field: 'username' },
    );
}

/** A trimmed e-mail address, or null for none. */
function checkEmail(email: string | null | undefined): string | null {
  const address = email?.trim() || null;
  if (address && !EMAIL.test(address))
    throw new DomainError('BAD_USER_INPUT', `email: "${address}" is not an e-mail address`, { field: 'email' });
  return address;
}

/** Acting on another user's things: only administrators may (see docs/permissions.md). */
function forbidden(message: string): never {
  throw new DomainError('FORBIDDEN', message, { requiredRole: Role.ADMIN });
}
