import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { ConsoleBrowser, tid } from '../support/browser.js';
import { MAIN, TestDaemon } from '../support/daemon.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';
import { PERMISSIONS, ROLES, allowed, stale, unclassified, type Role, type RootType } from './permissions.matrix.js';

/**
 * Every Query, Mutation and Subscription field, called anonymously and as each role against the real daemon,
 * must be allowed or refused exactly as tests/e2e/permissions.matrix.ts says; then what each role sees of
 * sensitive data, and subscriptions whose token dies while they are open.
 */

const REFUSED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);
/**
 * Arguments where the generic sample would hurt the caller (removing itself); everything else is generated:
 * the caller's own name for `username`, id 999999, "x", the first enum value, empty lists and objects.
 */
const PROBE_ARGS: Record<string, Record<string, unknown>> = {
  'Mutation.userRemove': { username: 'nobody-here' },
  'Mutation.userSetActive': { username: 'nobody-here' },
  'Mutation.userSetRole': { username: 'nobody-here' },
  'Mutation.rejectUser': { username: 'nobody-here' },
};
/** A subscription that neither errs nor ends within this is streaming, so it was allowed. */
const SUBSCRIPTION_SETTLE_MS = 1500;

interface Caller {
  role: Role | null;
  username: string;
  /** Used for the probes; `signOut` revokes it, so it is not used afterwards. */
  probeToken?: string;
  token?: string;
}

interface Outcome {
  code?: string;
  requiredRole?: string;
  message?: string;
}

describe('the role × operation matrix', () => {
  let db: TestDatabase;
  let daemon: TestDaemon;
  let schema: GraphQLSchema;
  const callers: Caller[] = [{ role: null, username: 'anonymous' }];
  const byRole = {} as Record<Role, Caller>;

  const admin = async <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, await daemon.adminToken);
    assert.equal(r.errors, undefined, `${query}: ${JSON.stringify(r.errors)}`);
    return r.data!;
  };
  const newToken = async (username: string, name: string): Promise<string> =>
    (
      await admin<{ tokenCreate: { secret: string } }>(
        'mutation($u: String!, $n: String!) { tokenCreate(username: $u, name: $n) { secret } }',
        { u: username, n: name },
      )
    ).tokenCreate.secret;

  before(async () => {
    // An external database, so the test can move a token's expiry close.
    db = await createTestDatabase();
    daemon = await TestDaemon.start({ databaseUrl: db.url });
    for (const role of ROLES) {
      const username = `perm-${role.toLowerCase()}`;
      await admin('mutation($u: String!, $r: Role!) { userAdd(username: $u, role: $r) { id } }', {
        u: username,
        r: role,
      });
      const caller: Caller = {
        role,
        username,
        probeToken: await newToken(username, 'matrix probes'),
        token: await newToken(username, 'matrix checks'),
      };
      callers.push(caller);
      byRole[role] = caller;
    }
    const introspection = await daemon.gql<IntrospectionQuery>(getIntrospectionQuery());
    assert.equal(introspection.errors, undefined, JSON.stringify(introspection.errors));
    schema = buildClientSchema(introspection.data!);
  });
  after(async () => {
    await daemon?.dispose();
    await db?.drop();
    await stopScratchCluster();
  });

  const rootFields = (): { type: RootType; name: string; field: GraphQLField<unknown, unknown> }[] =>
    (
      [
        ['Query', schema.getQueryType()],
        ['Mutation', schema.getMutationType()],
        ['Subscription', schema.getSubscriptionType()],
      ] as const
    ).flatMap(([type, root]) =>
      Object.values(root?.getFields() ?? {}).map((field) => ({ type: type as RootType, name: field.name, field })),
    );

  it('classifies every operation of the schema', () => {
    const missing = unclassified(rootFields());
    assert.deepEqual(
      missing,
      [],
      `tests/e2e/permissions.matrix.ts has no line for ${missing.length} operation(s); add to PERMISSIONS, choosing the role each needs:\n${missing.join('\n')}\nthen run node scripts/permissions-doc.mjs`,
    );
    assert.deepEqual(stale(rootFields()), [], 'PERMISSIONS names operations the schema no longer has: remove them');
  });

  it('allows and refuses every operation, anonymously and for each role, as the table says', async () => {
    const mismatches: string[] = [];
    const fields = rootFields()
      .filter((f) => `${f.type}.${f.name}` in PERMISSIONS)
      // signOut revokes the token it is called with: last, so the other probes still have one.
      .sort((a, b) => Number(a.name === 'signOut') - Number(b.name === 'signOut'));
    for (const caller of callers) {
      for (const f of fields) {
        const key = `${f.type}.${f.name}`;
        const expected = PERMISSIONS[key]!.access;
        const outcome =
          f.type === 'Subscription' ? await probeSubscription(caller, f.field) : await probeOperation(caller, f);
        const refused = outcome.code !== undefined && REFUSED.has(outcome.code);
        const who = caller.role ?? 'anonymous';
        if (allowed(expected, caller.role)) {
          // Cheap made-up arguments must get a precise domain error, never an internal one.
          if (outcome.code === 'INTERNAL_SERVER_ERROR')
            mismatches.push(
              `${key} as ${who}: INTERNAL_SERVER_ERROR (${outcome.message}): throw a DomainError instead`,
            );
          if (refused)
            mismatches.push(`${key} as ${who}: refused (${outcome.code}: ${outcome.message}), table says ${expected}`);
        } else if (!refused) {
          mismatches.push(`${key} as ${who}: allowed (${outcome.code ?? 'no error'}), table says ${expected}`);
        } else {
          const code = caller.role ? 'FORBIDDEN' : 'UNAUTHENTICATED';
          if (outcome.code !== code || outcome.requiredRole !== expected)
            mismatches.push(
              `${key} as ${who}: ${outcome.code} requiredRole=${outcome.requiredRole}, expected ${code} requiredRole=${expected}`,
            );
        }
      }
    }
    assert.deepEqual(
      mismatches,
      [],
      'fix the @Authorized decorator (or the table in tests/e2e/permissions.matrix.ts if the table is wrong)',
    );
  });

  it('shows users, tokens and subscriptions of others only to administrators', async () => {
    const { UPLOADER: alice, STAFF: bob, ADMIN: carol } = byRole;
    const as = <T>(c: Caller, q: string, v: Record<string, unknown> = {}) => daemon.gql<T>(q, v, c.token);

    // me: one's own user, nobody when anonymous.
    for (const c of [alice, bob, carol])
      assert.equal((await as<{ me: { username: string } }>(c, '{ me { username } }')).data!.me.username, c.username);
    assert.equal((await daemon.gql<{ me: null }>('{ me { username } }')).data!.me, null);

    // tokens: one's own; an administrator sees everybody's; the secret is never a field.
    for (const c of [alice, bob]) {
      const { tokens } = (await as<{ tokens: { username: string }[] }>(c, '{ tokens { username } }')).data!;
      assert.ok(tokens.length >= 1);
      assert.deepEqual([...new Set(tokens.map((t) => t.username))], [c.username]);
    }
    const all = (await as<{ tokens: { id: string; username: string }[] }>(carol, '{ tokens { id username } }')).data!;
    assert.ok(all.tokens.some((t) => t.username === alice.username) && all.tokens.some((t) => t.username === 'admin'));
    const tokenFields = Object.keys((schema.getType('ApiToken') as GraphQLObjectType).getFields()).filter((name) =>
      /secret|hash/i.test(name),
    );
    assert.deepEqual(tokenFields, []);

    // Uploader keys name people: staff read them, nobody below.
    const keys = '{ configObjects(kind: UPLOADER) { key } }';
    const anonymousKeys = await daemon.gql(keys);
    assert.equal(anonymousKeys.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const uploaderKeys = await as(alice, keys);
    assert.equal(uploaderKeys.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((uploaderKeys.errors![0]!.extensions as { requiredRole?: string }).requiredRole, 'STAFF');
    assert.match(
      uploaderKeys.errors![0]!.message,
      /reading UPLOADER objects needs the STAFF role; perm-uploader is UPLOADER/,
    );
    assert.equal((await as(bob, keys)).errors, undefined);

    // Another user's things: FORBIDDEN below ADMIN, naming the role; allowed to an administrator.
    const alicesToken = all.tokens.find((t) => t.username === alice.username)!.id;
    const { subscribe: alicesSub } = (
      await as<{ subscribe: { id: string } }>(alice, 'mutation { subscribe(source: "hello") { id } }')
    ).data!;
    const others: [string, Record<string, unknown>][] = [
      ['{ subscriptions(username: $u) { id } }', { u: alice.username }],
      ['mutation { subscribe(source: "hello-theirs", username: $u) { id } }', { u: alice.username }],
      ['mutation { userSetPassword(username: $u, password: "long enough password") { id } }', { u: alice.username }],
      ['mutation { userSetEmail(username: $u, email: "a@example.org") { id } }', { u: alice.username }],
      ['mutation { tokenCreate(username: $u, name: "theirs") { secret } }', { u: alice.username }],
      ['mutation { tokenRevoke(id: $id) { id } }', { id: alicesToken }],
      ['mutation { unsubscribe(id: $id) { id } }', { id: alicesSub.id }],
    ];
    for (const [doc, vars] of others) {
      const decl = 'u' in vars ? '($u: String!)' : '($id: ID!)';
      const query = doc.startsWith('mutation') ? doc.replace('mutation', `mutation${decl}`) : `query${decl} ${doc}`;
      const refused = await as(bob, query, vars);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN', `${query} as STAFF`);
      assert.equal((refused.errors![0]!.extensions as { requiredRole?: string }).requiredRole, 'ADMIN');
      assert.match(refused.errors![0]!.message, /administrator/);
    }
    // An administrator may (the revocation and the unsubscription last: they end what they name).
    for (const [doc, vars] of others) {
      const decl = 'u' in vars ? '($u: String!)' : '($id: ID!)';
      const query = doc.startsWith('mutation') ? doc.replace('mutation', `mutation${decl}`) : `query${decl} ${doc}`;
      const done = await as(carol, query, vars);
      assert.equal(done.errors, undefined, `${query} as ADMIN: ${JSON.stringify(done.errors)}`);
    }
  });

  it('hides audit events from anonymous callers and uploaders, over HTTP and graphql-ws', async () => {
    const audit = /^(USER|TOKEN)_/;
    const types = async (c?: Caller) =>
      (
        await daemon.gql<{ events: { type: string }[] }>('{ events(limit: 500) { type } }', {}, c?.token)
      ).data!.events.map((e) => e.type);
    assert.ok((await types(byRole.STAFF)).some((t) => audit.test(t)));
    for (const c of [undefined, byRole.UPLOADER])
      assert.deepEqual(
        (await types(c)).filter((t) => audit.test(t)),
        [],
      );
    // The subscription's replay filters the same way.
    const replayed = await collectEvents(undefined, '0', 1500);
    assert.ok(replayed.length > 0);
    assert.deepEqual(
      replayed.filter((t) => audit.test(t)),
      [],
    );
    assert.ok((await collectEvents(byRole.STAFF.token, '0', 1500)).some((t) => audit.test(t)));
  });

  it('never shows the SMTP password, to any role, in objects, events or logs', async () => {
    const password = 'perm-s3cret-pw';
    await admin(
      'mutation($v: JSONObject!) { configSet(kind: DAEMON, key: "daemon", values: $v, create: true) { object { key } } }',
      {
        v: { smtpUrl: `smtp://mailer:${password}@127.0.0.1:2525` },
      },
    );
    for (const c of callers) {
      const seen = await daemon.gql<{ configObject: { fields: { name: string; value: unknown }[] } }>(
        '{ configObject(kind: DAEMON, key: "daemon") { fields { name value } } configObjects(kind: DAEMON) { fields { value } } events(limit: 100) { summary payload } }',
        {},
        c.token,
      );
      assert.equal(seen.errors, undefined, JSON.stringify(seen.errors));
      const smtp = seen.data!.configObject.fields.find((f) => f.name === 'smtpUrl');
      assert.equal(smtp?.value, 'smtp://mailer:***@127.0.0.1:2525', `as ${c.role ?? 'anonymous'}`);
      assert.doesNotMatch(JSON.stringify(seen.data), new RegExp(password));
    }
    assert.doesNotMatch(daemon.logs, new RegExp(password));
  });

  it('refuses credentials in an archive URL: the URL is the archive’s public name', async () => {
    const r = await daemon.gql(
      'mutation { configSet(kind: ARCHIVE, key: "http://user:pw@mirror.example.org/debian/", values: {}, create: true) { created } }',
      {},
      await daemon.adminToken,
    );
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(r.errors![0]!.message, /credentials/);
  });

  it('ends an open subscription (4401, with the reason) when its token is revoked, expires or its user is deactivated or removed', async () => {
    // Revoked.
    const revokedToken = await newToken(byRole.STAFF.username, 'revoked while streaming');
    const revoked = await openEvents(revokedToken);
    const { tokens } = await admin<{ tokens: { id: string; name: string }[] }>('{ tokens { id name } }');
    const id = tokens.find((t) => t.name === 'revoked while streaming')!.id;
    const started = Date.now();
    await admin('mutation($id: ID!) { tokenRevoke(id: $id) { revokedAt } }', { id });
    assert.deepEqual(await revoked.closed, { code: 4401, reason: 'INVALID_TOKEN: the token was revoked' });
    assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);

    // Expired: the token's expiry is moved two seconds ahead before the connection opens.
    const expiringToken = await newToken(byRole.STAFF.username, 'expiring while streaming');
    await withDb((c) =>
      c.query("update api_token set expires_at = now() + interval '2 seconds' where name = 'expiring while streaming'"),
    );
    const expiring = await openEvents(expiringToken);
    assert.deepEqual(await expiring.closed, { code: 4401, reason: 'INVALID_TOKEN: the token expired' });

    // The user deactivated: the stream ends at once with that reason.
    await admin('mutation { userAdd(username: "perm-paused", role: STAFF, password: "paused for a while") { id } }');
    const paused = await openEvents(await newToken('perm-paused', 'paused'));
    await admin('mutation { userSetActive(username: "perm-paused", active: false) { state } }');
    assert.deepEqual(await paused.closed, { code: 4401, reason: 'INVALID_TOKEN: user perm-paused is deactivated' });

    // The user removed (with every token and session): the console's stream, on its session cookie, ends too.
    await admin('mutation { userAdd(username: "perm-leaving", role: STAFF, password: "leaving soon, really") { id } }');
    const leaving = await openEvents(await newToken('perm-leaving', 'leaving'));
    const session = await signIn('perm-leaving', 'leaving soon, really');
    const consoleStream = await openEvents(undefined, session);
    await admin('mutation { userRemove(username: "perm-leaving") }');
    const removed = { code: 4401, reason: 'INVALID_TOKEN: user perm-leaving was removed' };
    assert.deepEqual(await leaving.closed, removed);
    assert.deepEqual(await consoleStream.closed, removed);
    // The console reconnects with its stale cookie and streams anonymously, as its HTTP requests do.
    const stale = await openEvents(undefined, session);
    assert.equal(await stale.stillOpen(), true);
    stale.dispose();

    // Meanwhile an anonymous stream and one with a live token keep going.
    const fine = await openEvents(byRole.STAFF.token);
    const anonymous = await openEvents(undefined);
    await admin('mutation { userAdd(username: "perm-after", role: UPLOADER) { id } }');
    assert.equal(await fine.nextType, 'USER_CREATED');
    assert.equal(await anonymous.stillOpen(), true);
    assert.equal(await fine.stillOpen(), true);
    fine.dispose();
    anonymous.dispose();

    // A new connection with a dead token is refused outright (4403), an HTTP request with 401.
    const refused = await openEvents(revokedToken);
    assert.equal((await refused.closed).code, 4403);
    const http = await daemon.gql('{ me { username } }', {}, revokedToken);
    assert.equal(http.status, 401);
    assert.equal(http.errors?.[0]?.extensions?.code, 'INVALID_TOKEN');
  });

  it('console: a visitor whose user is removed while the events page streams is signed out at once', async () => {
    await inConsoleAs({ username: 'perm-console', role: 'STAFF', path: '/events' }, async (page) => {
      await page.locator(`${tid('event-feed-live')}[data-state="connected"]`).waitFor();
      await admin('mutation { userRemove(username: "perm-console") }');
      // 4401 signs the visitor out; the feed reconnects anonymously.
      await page.locator(tid('sign-in-link')).waitFor({ timeout: 5000 });
      await page.locator(`${tid('event-feed-live')}[data-state="connected"]`).waitFor();
      assert.equal(await page.locator(tid('user-name')).count(), 0);
    });
  });

  it('console: the profile makes an API token (its secret shown once), shows its last use and revokes it', async () => {
    await inConsoleAs({ username: 'perm-tokens', role: 'UPLOADER', path: '/profile' }, async (page) => {
      const card = page.locator(tid('profile-tokens'));
      await card.locator(tid('tokens-empty')).waitFor();
      // A days value that is no number cannot be sent; a name is needed.
      await card.locator(tid('token-days')).fill('soon');
      await card.locator(tid('token-name')).fill('laptop');
      assert.equal(await card.locator(tid('token-create')).isDisabled(), true);
      await card.locator(tid('token-days')).fill('0');
      await card.locator(tid('token-create')).click();
      const refused = card.locator(tid('token-error'));
      await refused.waitFor();
      assert.equal(await refused.getAttribute('data-code'), 'BAD_USER_INPUT');
      assert.match(await refused.innerText(), /from 1 to 3650, not 0/);

      await card.locator(tid('token-days')).fill('30');
      await card.locator(tid('token-create')).click();
      const secret = (await card.locator(tid('token-secret')).innerText()).trim();
      assert.match(secret, /^\S{32,}$/);
      const row = card.locator(`${tid('token-row')}[data-name="laptop"]`);
      assert.equal(await row.getAttribute('data-state'), 'active');
      assert.equal((await row.locator(tid('token-last-used')).innerText()).trim(), 'never');
      await card.locator(tid('token-created-close')).click();
      assert.equal(await card.locator(tid('token-secret')).count(), 0);

      // The secret works on the command line, and the profile shows it was used.
      const listed = await daemon.cli(['token', 'list'], { token: secret });
      assert.equal(listed.exitCode, 0, listed.stderr);
      assert.match(listed.stdout, /laptop/);
      await page.reload();
      await page.locator(`${tid('token-row')}[data-name="laptop"] ${tid('token-last-used')} time`).waitFor();

      await page.locator(`${tid('token-row')}[data-name="laptop"] ${tid('token-revoke')}`).click();
      await page.locator(`${tid('token-row')}[data-name="laptop"][data-state="revoked"]`).waitFor();
      const after = await daemon.cli(['token', 'list'], { token: secret });
      assert.equal(after.exitCode, 4, after.stderr);
      assert.match(after.stderr, /\(INVALID_TOKEN\)/);
    });
  });

  it('CLI: a refused call exits 4 and names the role it needs; a revoked token ends `events --follow`', async () => {
    const forbidden = await daemon.cli(['engine', 'stop'], { token: byRole.UPLOADER.token });
    assert.equal(forbidden.exitCode, 4, forbidden.stderr);
    assert.match(forbidden.stderr, /engineStop needs the ADMIN role; perm-uploader is UPLOADER.*\(FORBIDDEN\)/);
    const anonymous = await daemon.cli(['user', 'list'], { token: null });
    assert.equal(anonymous.exitCode, 4, anonymous.stderr);
    assert.match(anonymous.stderr, /users needs the ADMIN role and you are not signed in.*\(UNAUTHENTICATED\)/);
    const own = await daemon.cli(['token', 'create', '--name', 'theirs', '--for', byRole.ADMIN.username], {
      token: byRole.STAFF.token,
    });
    assert.equal(own.exitCode, 4, own.stderr);
    assert.match(own.stderr, /only an administrator can create tokens for another user \(FORBIDDEN\)/);

    const followToken = await newToken(byRole.STAFF.username, 'cli follow');
    const follow = execa(process.execPath, [MAIN, 'events', '--follow'], {
      env: { DEBYARD_URL: daemon.httpUrl, DEBYARD_TOKEN: followToken },
      reject: false,
      timeout: 30_000,
    });
    // It prints the recent events, then subscribes.
    await new Promise((r) => follow.stdout!.once('data', r));
    await new Promise((r) => setTimeout(r, 1000));
    const { tokens } = await admin<{ tokens: { id: string; name: string }[] }>('{ tokens { id name } }');
    await admin('mutation($id: ID!) { tokenRevoke(id: $id) { id } }', {
      id: tokens.find((t) => t.name === 'cli follow')!.id,
    });
    const r = await follow;
    assert.equal(r.exitCode, 4, String(r.stderr));
    assert.match(r.stderr, /the daemon ended the stream: the token was revoked; sign in again or use another token/);
  });

  /** Runs one Query or Mutation with cheap, valid-looking arguments; what matters is the auth code. */
  async function probeOperation(
    caller: Caller,
    f: { type: RootType; name: string; field: GraphQLField<unknown, unknown> },
  ): Promise<Outcome> {
    const { document, variables } = probeDocument(f.type, f.field, caller);
    const r = await daemon.gql(document, variables, caller.probeToken);
    const error = r.errors?.[0];
    if (r.status === 400 && error?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')
      throw new Error(`the probe for ${f.type}.${f.name} is not valid: ${error.message}; add PROBE_ARGS for it`);
    if (error?.extensions?.code === 'INVALID_TOKEN')
      throw new Error(
        `${f.type}.${f.name} as ${caller.role}: the probe token stopped working (${error.message}); an earlier probe ended it: give that operation harmless PROBE_ARGS`,
      );
    return outcome(error);
  }

  /** Subscribes over graphql-ws: an error settles it, a stream that keeps going was allowed. */
  function probeSubscription(caller: Caller, field: GraphQLField<unknown, unknown>): Promise<Outcome> {
    const { document, variables } = probeDocument('Subscription', field, caller);
    const client = wsClient(caller.probeToken);
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => resolve({}), SUBSCRIPTION_SETTLE_MS);
      client.subscribe(
        { query: document, variables },
        {
          next: (r) => {
            clearTimeout(timer);
            resolve(outcome(r.errors?.[0] as Parameters<typeof outcome>[0]));
          },
          error: (err) => {
            clearTimeout(timer);
            resolve(Array.isArray(err) ? outcome(err[0]) : { code: 'CLOSED', message: JSON.stringify(err) });
          },
          complete: () => {
            clearTimeout(timer);
            resolve({});
          },
        },
      );
    }).finally(() => client.dispose());
  }

  function probeDocument(type: RootType, field: GraphQLField<unknown, unknown>, caller: Caller) {
    const overrides = PROBE_ARGS[`${type}.${field.name}`] ?? {};
    const args = field.args.filter(
      (a) => a.name in overrides || (isNonNullType(a.type) && a.defaultValue === undefined),
    );
    const variables = Object.fromEntries(
      args.map((a) => [a.name, a.name in overrides ? overrides[a.name] : sample(a.type, a.name, caller)]),
    );
    const decl = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
    const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
    const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
    return { document: `${type.toLowerCase()} Probe${decl} { ${field.name}${call}${selection} }`, variables };
  }

  async function collectEvents(token: string | undefined, since: string, ms: number): Promise<string[]> {
    const client = wsClient(token);
    const types: string[] = [];
    await new Promise<void>((resolve, reject) => {
      setTimeout(resolve, ms);
      client.subscribe<{ events: { type: string } }>(
        { query: 'subscription($s: ID) { events(since: $s) { type } }', variables: { s: since } },
        { next: (r) => types.push(r.data!.events.type), error: reject, complete: resolve },
      );
    }).finally(() => client.dispose());
    return types;
  }

  /** Signs in over HTTP; returns the session cookie the console would hold. */
  /** A new user of `role`, signed in to the console at `path` in a browser of its own, closed afterwards. */
  async function inConsoleAs(
    who: { username: string; role: Role; path: string },
    run: (page: Page) => Promise<void>,
  ): Promise<void> {
    const password = `${who.username} console password`;
    await admin(
      'mutation($u: String!, $r: Role!, $p: String!) { userAdd(username: $u, role: $r, password: $p) { id } }',
      {
        u: who.username,
        r: who.role,
        p: password,
      },
    );
    const browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: `permissions-${who.username}`,
    });
    try {
      await run(await browser.signedInPage(who.path, who.username, password));
    } finally {
      await browser.close();
    }
  }

  async function signIn(username: string, password: string): Promise<string> {
    const res = await fetch(`${daemon.httpUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { id } }',
        variables: { u: username, p: password },
      }),
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('debyard_session='));
    assert.ok(cookie, `no session cookie: ${await res.text()}`);
    return cookie.split(';')[0]!;
  }

  /**
   * An events subscription (with a bearer token, or a session cookie as the console has), its close code and
   * reason, and the type of the next event it gets.
   */
  async function openEvents(token: string | undefined, cookie?: string) {
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    let closedWith!: (c: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (closedWith = r));
    let gotNext!: (type: string | undefined) => void;
    const nextType = new Promise<string | undefined>((r) => (gotNext = r));
    const client = createClient({
      url: daemon.httpUrl.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: cookie
        ? class extends WebSocket {
            constructor(url: string, protocols?: string | string[]) {
              super(url, protocols, { headers: { cookie } });
            }
          }
        : WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      on: {
        connected: () => connected(),
        closed: (e) => {
          const { code, reason } = e as { code: number; reason: string };
          closedWith({ code, reason: String(reason) });
        },
      },
    });
    client.subscribe<{ events: { type: string } }>(
      { query: 'subscription { events { type } }' },
      { next: (r) => gotNext(r.data?.events.type), error: () => gotNext(undefined), complete: () => undefined },
    );
    // The refused connection closes instead of connecting.
    await Promise.race([ready, closed]);
    await new Promise((r) => setTimeout(r, 300)); // the server subscribes to the bus once the operation starts
    setTimeout(() => gotNext(undefined), 3000).unref();
    const stillOpen = () =>
      Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 500))]);
    return { closed, nextType, stillOpen, dispose: () => void client.dispose() };
  }

  function wsClient(token: string | undefined) {
    return createClient({
      url: daemon.httpUrl.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    });
  }

  async function withDb<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
});

/** A cheap value of an input type: the caller's own name for `username`, an id nobody has, the first enum value. */
function sample(type: GraphQLInputType, name: string, caller: Caller): unknown {
  if (isNonNullType(type)) return sample(type.ofType, name, caller);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, sample(f.type, f.name, caller)]),
    );
  switch (type.name) {
    case 'ID':
      return '999999';
    case 'Int':
      return 1;
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
    case 'String':
      return name === 'username' ? caller.username : 'x';
    default:
      return {}; // JSON and JSONObject
  }
}

function outcome(error: { message: string; extensions?: Record<string, unknown> } | undefined): Outcome {
  if (!error) return {};
  return {
    code: error.extensions?.code as string | undefined,
    requiredRole: error.extensions?.requiredRole as string | undefined,
    message: error.message,
  };
}
