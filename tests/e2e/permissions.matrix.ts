/**
 * The role × operation matrix: who may call each Query, Mutation and Subscription field. This table is the
 * one place it is written down: tests/e2e/permissions.test.ts calls every field anonymously and as each
 * role against the real daemon and checks the answer against it, a field missing here fails that test
 * (and tests/static/generated-drift.test.ts), and docs/permissions.md is generated from it
 * (`node scripts/permissions-doc.mjs`). The daemon enforces it with `@Authorized(…)` on the resolvers,
 * checked by the one authChecker in server/src/graphql/context.ts.
 *
 * A new operation is one line below. The test makes up cheap arguments for it; when those would do harm
 * (remove the caller, say), give it harmless ones in PROBE_ARGS of permissions.test.ts.
 *
 * Roles include the ones before them: anonymous < UPLOADER < STAFF < ADMIN. UPLOADER is the weakest
 * role, so `uploader()` means "any signed-in user" (`@Authorized()`).
 */

export const ROLES = ['UPLOADER', 'STAFF', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];
/** The least a caller needs: ANONYMOUS means everybody, even without a token. */
export type Access = 'ANONYMOUS' | Role;
export type RootType = 'Query' | 'Mutation' | 'Subscription';

export interface Permission {
  access: Access;
  /** What the resolver refines beyond the role (own vs anybody's, what is hidden), for the docs. */
  note?: string;
}

const anonymous = (note?: string): Permission => ({ access: 'ANONYMOUS', note });
const uploader = (note?: string): Permission => ({ access: 'UPLOADER', note });
const staff = (note?: string): Permission => ({ access: 'STAFF', note });
const admin = (note?: string): Permission => ({ access: 'ADMIN', note });

const OWN = 'own; anybody’s as ADMIN';
const CONFIG = 'UPLOADER keys (names, addresses) only for STAFF; the SMTP password always redacted';

// One line per field, grouped by root type, in schema order.
export const PERMISSIONS: Record<string, Permission> = {
  'Query.me': anonymous('the caller’s own user, null when anonymous'),
  'Query.users': admin(),
  'Query.signUpPolicy': anonymous(),
  'Query.signUpRequests': staff(),
  'Query.myKeys': uploader('the caller’s own uploader keys'),
  'Query.uploaderKeys': staff(),
  'Query.remotes': anonymous('like builders: what a builders page shows'),
  'Query.webhooks': admin('the secret always redacted'),
  'Query.tokens': uploader('own tokens; everybody’s as ADMIN; never the secret'),
  'Query.builds': anonymous(),
  'Query.build': anonymous(),
  'Query.builders': anonymous(),
  'Query.package': anonymous(),
  'Query.packages': anonymous(),
  'Query.uploads': anonymous(),
  'Query.upload': anonymous(),
  'Query.portPlan': staff(),
  'Query.portTargets': staff(),
  'Query.stagingPlan': staff(),
  'Query.repositoryBrowser': anonymous(),
  'Query.debdiff': anonymous(),
  'Query.keyringPackage': anonymous(),
  'Query.snapshots': anonymous(),
  'Query.events': anonymous('audit events (users, tokens, subscriptions, mail failures) only for STAFF'),
  'Query.configKinds': anonymous(),
  'Query.configObjects': anonymous(CONFIG),
  'Query.configObject': anonymous(CONFIG),
  'Query.sourcesList': anonymous(),
  'Query.archiveKey': anonymous(),
  'Query.dputConfig': anonymous(),
  'Query.status': anonymous(),
  'Query.subscriptions': uploader(OWN),
  'Mutation.signIn': anonymous(),
  'Mutation.signOut': uploader('ends the session or token used'),
  'Mutation.userAdd': admin(),
  'Mutation.userSetPassword': uploader(OWN),
  'Mutation.userSetEmail': uploader(OWN),
  'Mutation.userRemove': admin(),
  'Mutation.tokenCreate': uploader(`${OWN} (username)`),
  'Mutation.tokenRevoke': uploader(OWN),
  'Mutation.cancelBuild': staff(),
  'Mutation.retryBuild': staff(),
  'Mutation.testBuild': admin(),
  'Mutation.retryUpload': staff(),
  'Mutation.port': staff(),
  'Mutation.portExternal': staff(),
  'Mutation.migrate': staff(),
  'Mutation.remove': staff(),
  'Mutation.restore': staff(),
  'Mutation.buildKeyringPackages': admin(),
  'Mutation.createSnapshot': admin(),
  'Mutation.deleteSnapshot': admin(),
  'Mutation.runSnapshotSchedule': admin(),
  'Mutation.configSet': admin(),
  'Mutation.configAction': staff(),
  'Mutation.mirrorRepository': admin(),
  'Mutation.setup': admin(),
  'Mutation.engineStart': admin(),
  'Mutation.engineStop': admin(),
  'Mutation.signUp': anonymous('follows the daemon’s signUp policy'),
  'Mutation.approveUser': staff(),
  'Mutation.rejectUser': staff(),
  'Mutation.userSetActive': admin(),
  'Mutation.userSetRole': admin(),
  'Mutation.addKey': uploader('to the caller’s own profile'),
  'Mutation.removeKey': uploader('own; anybody’s as STAFF'),
  'Mutation.activateKey': staff(),
  'Mutation.deactivateKey': staff(),
  'Mutation.wakeRemote': staff(),
  'Mutation.addWebhook': admin(),
  'Mutation.removeWebhook': admin(),
  'Mutation.setWebhookActive': admin(),
  'Mutation.testWebhook': admin(),
  'Mutation.subscribe': uploader(OWN),
  'Mutation.unsubscribe': uploader(OWN),
  'Subscription.buildLog': anonymous(),
  'Subscription.chrootLog': anonymous(),
  'Subscription.events': anonymous('audit events only for STAFF; ends (4401) when its token or user does'),
};

/** Root fields of a schema that the table does not classify, as the lines to add. */
export function unclassified(fields: { type: RootType; name: string }[]): string[] {
  return fields
    .filter((f) => !(`${f.type}.${f.name}` in PERMISSIONS))
    .map((f) => `'${f.type}.${f.name}': anonymous() | uploader() | staff() | admin(),`);
}

/** Entries of the table that name no field of the schema (renamed or removed operations). */
export function stale(fields: { type: RootType; name: string }[]): string[] {
  const present = new Set(fields.map((f) => `${f.type}.${f.name}`));
  return Object.keys(PERMISSIONS).filter((key) => !present.has(key));
}

export function allowed(access: Access, caller: Role | null): boolean {
  if (access === 'ANONYMOUS') return true;
  return caller !== null && ROLES.indexOf(caller) >= ROLES.indexOf(access);
}

/** docs/permissions.md: the table as a reader wants it, one row per operation and a column per role. */
export function permissionsMarkdown(): string {
  const header = [
    '# Permissions',
    '',
    '<!-- Generated from tests/e2e/permissions.matrix.ts by `node scripts/permissions-doc.mjs`; do not edit. -->',
    '',
    'Who may call each GraphQL operation. Roles include the ones before them: anonymous < `UPLOADER` <',
    '`STAFF` < `ADMIN`; every user has at least `UPLOADER`. tests/e2e/permissions.test.ts calls every operation',
    'anonymously and as each role against the real daemon and checks this table.',
    '',
    'Refusals are GraphQL errors with a stable `extensions.code` and `extensions.requiredRole`:',
    '',
    '- `UNAUTHENTICATED`: nobody is signed in and the operation needs a role;',
    '- `FORBIDDEN`: the caller’s role is too weak, or the caller names another user’s things (a `username`',
    '  argument, the id of another user’s token or subscription) without being `ADMIN`;',
    '- `INVALID_TOKEN` (HTTP 401): the token or session is wrong, expired or revoked; it never falls back to',
    '  anonymous. A graphql-ws connection with such a token is refused (close code 4403); one whose token',
    '  is revoked or expires, or whose user is removed, while it is open is closed with 4401 and the reason.',
    '',
    'The CLI exits with code 4 on each of them and prints the message, which names the role needed.',
    'The HTTP downloads (`/logs`, `/uploads`, `/repositories`) are public and take no token.',
    '',
    '| Operation | Anonymous | UPLOADER | STAFF | ADMIN | Notes |',
    '| --- | :-: | :-: | :-: | :-: | --- |',
  ];
  const rows = Object.entries(PERMISSIONS).map(([key, p]) => {
    const cells = [null, ...ROLES].map((role) => (allowed(p.access, role) ? 'yes' : '–'));
    return `| \`${key}\` | ${cells.join(' | ')} | ${p.note ?? ''} |`;
  });
  return [...header, ...rows, ''].join('\n');
}
