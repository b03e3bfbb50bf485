// People and their keys, end to end (issue 7): a new user signs up in the browser, is approved by
// staff, adds an uploader key on the profile, staff activate it for repository `test` (which takes
// signed uploads only), and a dput upload signed by it gets past the signature check; the same upload
// signed by the key of a user who was deactivated is rejected with that reason. Then the bad inputs:
// malformed, expired and weak keys, duplicate users, closed sign-up.
//
// The daemon is PipelineFixture's (setup with a bookworm/amd64 chroot), so the accepted upload is built
// and INSTALLED. The `it`s run in order.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { execa } from 'execa';
import type { Page } from 'playwright-core';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, signIn, submitSignIn, tid } from '../support/browser.js';
import { eventually, type TestDaemon } from '../support/daemon.js';
import { PipelineFixture } from '../support/pipeline.js';
import { recentEvents } from '../support/scenarios.js';
import { generateUploaderKey, makeUpload, type UploaderKey } from '../support/uploads.js';

const DIST = 'bookworm-test-unstable';
const DAY = 24 * 3600 * 1000;
const ALICE_PASSWORD = 'a long and secret passphrase';
const CAROL_PASSWORD = 'another long passphrase';
const SAM_PASSWORD = 'staff person passphrase';

interface UploadRow {
  id: string;
  changesName: string;
  state: string;
  rejectCode: string | null;
  reason: string | null;
  signedBy: string | null;
}

describe('accounts, uploader keys and signed uploads', { concurrency: false, timeout: 480_000 }, () => {
  let fixture: PipelineFixture;
  let daemon: TestDaemon;
  let admin: string;
  let browser: ConsoleBrowser;
  let work: string;
  let dputCf: string;
  let identity: string;
  let aliceKey: UploaderKey;
  let carolKey: UploaderKey;
  let expiredKey: UploaderKey;
  let weakKey: UploaderKey;
  let erinKey: UploaderKey;
  /** Signed in as sam (staff), kept for the suite. */
  let staffPage: Page;
  const made: string[] = [];

  const cli = async (args: string[], opts: { token?: string | null; input?: string } = {}) => {
    const r = await daemon.cli(args, { timeoutMs: 120_000, ...opts });
    assert.equal(r.exitCode, 0, `debyard ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const gql = (query: string, variables: Record<string, unknown> = {}, token?: string) =>
    daemon.gql<Record<string, unknown>>(query, variables, token);
  const errorOf = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const r = await gql(query, variables, token);
    assert.ok(r.errors?.length, `expected an error from ${query}`);
    return { code: r.errors[0]!.extensions?.code, message: r.errors[0]!.message };
  };
  /** A token for `username`, made by the admin. */
  const tokenFor = async (username: string) =>
    (await cli(['token', 'create', '--for', username, '--name', 'test'])).stdout.trim();
  const uploads = async () => {
    const r = await daemon.gql<{ uploads: { nodes: UploadRow[] } }>(
      '{ uploads(first: 50) { nodes { id changesName state rejectCode reason signedBy } } }',
      {},
      admin,
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.uploads.nodes;
  };
  /**
   * hello-all for unstable signed by `key`, sent with stock dput as its owner would; resolves to the upload
   * once it is INSTALLED, FAILED or REJECTED (a new row: earlier uploads of the same name do not count).
   */
  const dputAndSettle = async (key: UploaderKey, version: string) => {
    const before = new Set((await uploads()).map((n) => n.id));
    const u = await makeUpload('hello-all', { version, distribution: DIST, sign: key });
    made.push(u.dir);
    const r = await execa('dput', ['-c', dputCf, `debyard-${identity}`, u.changes], {
      reject: false,
      all: true,
      env: { GNUPGHOME: key.gnupgHome, HOME: work },
    });
    assert.equal(r.exitCode, 0, String(r.all));
    return eventually(async () => {
      const row = (await uploads()).find((n) => n.changesName === path.basename(u.changes) && !before.has(n.id));
      return row && ['INSTALLED', 'FAILED', 'REJECTED'].includes(row.state) ? row : undefined;
    }, 240_000);
  };

  before(async () => {
    const t0 = Date.now();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-accounts-'));
    await fs.chmod(work, 0o755);
    [fixture, aliceKey, carolKey, expiredKey, weakKey, erinKey] = await Promise.all([
      PipelineFixture.start('accounts'),
      generateUploaderKey({ name: 'Alice Uploader', email: 'alice@debyard.example.org' }),
      generateUploaderKey({ name: 'Carol Uploader', email: 'carol@debyard.example.org' }),
      generateUploaderKey({ name: 'Expired Key', createdAt: new Date(Date.now() - 30 * DAY), expire: '1d' }),
      generateUploaderKey({ name: 'Weak Key', algorithm: 'rsa1024' }),
      generateUploaderKey({ name: 'Erin Uploader', email: 'erin@debyard.example.org' }),
    ]);
    daemon = fixture.daemon;
    admin = fixture.token;
    await cli(['config', 'repository', 'set', 'test', 'allowUnauthenticatedUploads=false']);
    await cli(['config', 'repository', 'pca', 'test']);
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    await cli(['user', 'add', 'sam', '--role', 'staff', '--password-stdin'], { input: `${SAM_PASSWORD}\n` });
    identity = fixture.identity;
    dputCf = fixture.dputCf;
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 20_000,
      name: 'accounts',
    });
    staffPage = await browser.signedInPage('/admin', 'sam', SAM_PASSWORD);
    console.log(`# set-up ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    await fixture?.dispose();
    await Promise.all([aliceKey, carolKey, expiredKey, weakKey, erinKey].map((k) => k?.dispose()));
    await Promise.all([work, ...made].map((d) => d && fs.rm(d, { recursive: true, force: true })));
  });

  it('signs up a new user in the browser; the account waits until staff approve it on the administration page', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto('/sign-in');
    await page.locator(tid('sign-up-link')).click();
    await page.locator(tid('sign-up-approval')).waitFor();
    await page.locator(tid('sign-up-username')).fill('alice');
    await page.locator(tid('sign-up-password')).fill(ALICE_PASSWORD);
    await page.locator(tid('sign-up-email')).fill('alice@debyard.example.org');
    await page.locator(tid('sign-up-submit')).click();
    assert.equal(await page.locator(tid('sign-up-done')).getAttribute('data-state'), 'PENDING');

    // Not before approval: the password is right, the account is not active yet.
    await page.locator(tid('sign-up-sign-in')).click();
    await submitSignIn(page, 'alice', ALICE_PASSWORD);
    const refused = page.locator(tid('sign-in-error'));
    assert.equal(await refused.getAttribute('data-code'), 'ACCOUNT_INACTIVE');
    assert.match((await refused.textContent()) ?? '', /your account waits for approval by the staff/);

    await staffPage.reload();
    const row = staffPage.locator(`${tid('admin-sign-up-row')}[data-username="alice"]`);
    await row.locator(tid('admin-approve')).click();
    await row.waitFor({ state: 'detached' });
    await staffPage.locator(tid('admin-done')).filter({ hasText: 'alice approved' }).waitFor();

    await submitSignIn(page, 'alice', ALICE_PASSWORD);
    await page.locator(tid('user-name')).filter({ hasText: 'alice' }).waitFor();
    const events = await recentEvents(daemon, 20);
    const signedUp = events.find((e) => e.type === 'USER_SIGNED_UP' && e.payload.username === 'alice');
    assert.equal(signedUp?.payload.state, 'PENDING');
    const approved = events.find((e) => e.type === 'USER_APPROVED' && e.payload.username === 'alice');
    assert.equal(approved?.payload.by, 'sam');
  });

  it('adds a key on the profile; a malformed, expired or weak one is refused there with its code', async () => {
    const page = await browser.signedInPage('/profile', 'alice', ALICE_PASSWORD);
    await page.locator(tid('keys-empty')).waitFor();
    const tryKey = async (armored: string) => {
      await page.locator(tid('key-armored')).fill(armored);
      await page.locator(tid('key-add')).click();
    };
    const error = page.locator(tid('key-error'));
    for (const [armored, code, message] of [
      [
        '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n',
        'KEY_INVALID',
        /^not an armored OpenPGP public key/,
      ],
      [expiredKey.armored, 'KEY_EXPIRED', new RegExp(`^key ${expiredKey.fingerprint} expired on \\d{4}-`)],
      [weakKey.armored, 'KEY_WEAK', /^the key is rsa1024: use RSA of at least 2048 bits or Ed25519, as apt requires/],
    ] as const) {
      await tryKey(armored);
      await page.locator(`${tid('key-error')}[data-code="${code}"]`).waitFor();
      assert.match((await error.textContent())?.trim() ?? '', message);
    }
    await tryKey(aliceKey.armored);
    const row = page.locator(`${tid('key-row')}[data-fingerprint="${aliceKey.fingerprint}"]`);
    await row.waitFor();
    assert.equal(await error.count(), 0);
    assert.equal(await row.getAttribute('data-status'), 'PREPARED');
    assert.equal(await row.getAttribute('data-usable'), 'false');
    assert.equal((await row.locator(tid('key-status')).textContent())?.trim(), 'waits for the staff');

    // Prepared and checked at once, as the UPLOADER configuration object everybody sees.
    const show = await cli(['config', 'uploader', 'show', aliceKey.fingerprint, '--json']);
    const object = JSON.parse(show.stdout) as {
      status: string;
      checkState: string;
      fields: { name: string; value: unknown }[];
    };
    assert.deepEqual([object.status, object.checkState], ['PREPARED', 'CHECKED']);
    assert.equal(object.fields.find((f) => f.name === 'user')?.value, 'alice');
  });

  it('staff activate the key for repository test in the console; an upload signed by it is installed', async () => {
    await staffPage.reload();
    const row = staffPage.locator(`${tid('admin-key-row')}[data-fingerprint="${aliceKey.fingerprint}"]`);
    await row.locator(tid('admin-key-repositories')).fill('test');
    await row.locator(tid('admin-key-activate')).click();
    await staffPage
      .locator(`${tid('admin-key-row')}[data-fingerprint="${aliceKey.fingerprint}"][data-usable="true"]`)
      .waitFor();
    assert.equal(await row.getAttribute('data-status'), 'ACTIVE');

    const done = await dputAndSettle(aliceKey, '1.0~test12+1');
    assert.equal(done.signedBy, aliceKey.fingerprint);
    assert.equal(done.state, 'INSTALLED', `${done.rejectCode}: ${done.reason}`);
  });

  it('refuses the same upload signed by the key of a deactivated user, with that reason, at once', async () => {
    // carol: the CLI way, anonymous sign-up, staff approval and activation, then the admin deactivates her.
    const signup = await daemon.cli(['signup', 'carol', '--email', 'carol@debyard.example.org'], {
      token: null,
      input: `${CAROL_PASSWORD}\n`,
    });
    assert.equal(signup.exitCode, 0, signup.stderr);
    assert.match(signup.stdout, /signed up as carol: the staff approve new accounts/);
    const requests = await cli(['user', 'requests']);
    assert.match(requests.stdout, /^carol\s+carol@debyard\.example\.org/m);
    await cli(['user', 'approve', 'carol']);
    const carol = await tokenFor('carol');
    const keyFile = path.join(work, 'carol.asc');
    await fs.writeFile(keyFile, carolKey.armored);
    const added = await cli(['key', 'add', keyFile], { token: carol });
    assert.match(added.stdout, new RegExp(`key ${carolKey.fingerprint} \\(ed25519\\) added and checked`));
    const sam = await tokenFor('sam');
    await cli(['key', 'activate', carolKey.fingerprint, '--repository', 'test'], { token: sam });
    const mine = JSON.parse((await cli(['key', 'show', '--json'], { token: carol })).stdout) as { usable: boolean }[];
    assert.deepEqual(
      mine.map((k) => k.usable),
      [true],
    );

    const off = await cli(['user', 'deactivate', 'carol']);
    assert.match(off.stdout, /carol deactivated/);
    const refused = await daemon.cli(['key', 'show'], { token: carol });
    assert.equal(refused.exitCode, 4, refused.stderr);
    assert.match(refused.stderr, /user carol is deactivated/);

    const done = await dputAndSettle(carolKey, '1.0~test12+1');
    assert.equal(done.state, 'REJECTED');
    assert.equal(done.rejectCode, 'KEY_NOT_ALLOWED');
    assert.match(
      done.reason ?? '',
      new RegExp(
        `^key ${carolKey.fingerprint} may not upload to repository test \\(carol: user carol is deactivated\\)`,
      ),
    );
    const events = await recentEvents(daemon, 40);
    const change = events.find((e) => e.type === 'USER_CHANGED' && e.payload.username === 'carol');
    assert.deepEqual([change?.payload.change, change?.payload.by], ['deactivated', 'admin']);
  });

  it('stops uploads signed by a key at once when staff deactivate it in the console', async () => {
    await staffPage.reload();
    const row = staffPage.locator(`${tid('admin-key-row')}[data-fingerprint="${aliceKey.fingerprint}"]`);
    await row.locator(tid('admin-key-deactivate')).click();
    await staffPage
      .locator(`${tid('admin-key-row')}[data-fingerprint="${aliceKey.fingerprint}"][data-status="PREPARED"]`)
      .waitFor();
    const done = await dputAndSettle(aliceKey, '1.0~test12+2');
    assert.equal(done.rejectCode, 'KEY_NOT_ALLOWED');
    assert.match(
      done.reason ?? '',
      new RegExp(
        `^key ${aliceKey.fingerprint} may not upload to repository test \\(alice: the uploader key is prepared, not active`,
      ),
    );
  });

  it('bad input: duplicate and invalid sign-ups, closed sign-up, keys twice or for inactive users, roles', async () => {
    const signUp = 'mutation($u: String!, $p: String!) { signUp(username: $u, password: $p) { username state } }';
    assert.deepEqual(await errorOf(signUp, { u: 'alice', p: 'yet another passphrase' }), {
      code: 'ALREADY_EXISTS',
      message: 'the user name "alice" is taken: choose another one',
    });
    assert.deepEqual(await errorOf(signUp, { u: 'Bad Name', p: 'yet another passphrase' }), {
      code: 'BAD_USER_INPUT',
      message:
        '"Bad Name" is not a valid user name: lower-case letters, digits and ._- (up to 32), starting with a letter',
    });
    assert.deepEqual(await errorOf(signUp, { u: 'dave', p: 'short' }), {
      code: 'BAD_USER_INPUT',
      message: 'the password is too short: use at least 10 characters',
    });
    assert.deepEqual(await errorOf(signUp, { u: 'dave', p: 'dave-is-my-password' }), {
      code: 'BAD_USER_INPUT',
      message: 'the password contains the user name: choose one that does not',
    });

    // The same key twice, and a key for a user who waits for approval.
    const alice = await tokenFor('alice');
    const addKey = 'mutation($a: String!) { addKey(armored: $a) { fingerprint } }';
    assert.deepEqual(await errorOf(addKey, { a: aliceKey.armored }, alice), {
      code: 'ALREADY_EXISTS',
      message: `key ${aliceKey.fingerprint} is on your profile already`,
    });
    await cli(['signup', 'erin'], { token: null, input: 'a secret passphrase of hers\n' });
    const weak = await daemon.cli(['key', 'add', '-'], { token: alice, input: weakKey.armored });
    assert.equal(weak.exitCode, 1);
    assert.match(weak.stderr, /the key is rsa1024: use RSA of at least 2048 bits or Ed25519, as apt requires/);
    const sam = await tokenFor('sam');
    const activate =
      'mutation($f: String!, $r: [String!]!) { activateKey(fingerprint: $f, repositories: $r) { status } }';
    assert.deepEqual(await errorOf(activate, { f: carolKey.fingerprint, r: ['test'] }, sam), {
      code: 'USER_STATE',
      message: 'user carol is deactivated: a key is activated only for an active user',
    });
    // Roles: an uploader may not activate keys; nobody anonymous may add one; staff may not deactivate users.
    assert.equal((await errorOf(activate, { f: aliceKey.fingerprint, r: ['test'] }, alice)).code, 'FORBIDDEN');
    assert.equal((await errorOf(addKey, { a: aliceKey.armored })).code, 'UNAUTHENTICATED');
    const setActive = 'mutation { userSetActive(username: "alice", active: false) { state } }';
    assert.equal((await errorOf(setActive, {}, sam)).code, 'FORBIDDEN');
    assert.deepEqual(
      await errorOf('mutation { userSetActive(username: "admin", active: false) { state } }', {}, admin),
      {
        code: 'LAST_ADMIN',
        message: '"admin" is the last active administrator: make someone else admin before you deactivate them',
      },
    );

    // Rejecting erin frees the name; a closed sign-up says so.
    await cli(['user', 'reject', 'erin', '--reason', 'nobody knows erin']);
    await cli(['config', 'daemon', 'set', 'daemon', 'signUp=CLOSED']);
    const closed = await (await browser.newContext()).newPage();
    await closed.goto('/sign-up');
    await closed.locator(tid('sign-up-closed')).waitFor();
    assert.equal(await closed.locator(tid('sign-up-form')).count(), 0);
    assert.deepEqual(await errorOf(signUp, { u: 'erin', p: 'a secret passphrase of hers' }), {
      code: 'SIGN_UP_CLOSED',
      message: 'sign-up is switched off here: ask an administrator for an account',
    });
    await cli(['config', 'daemon', 'set', 'daemon', 'signUp=OPEN']);
    const open = await gql(signUp, { u: 'erin', p: 'a secret passphrase of hers' });
    assert.deepEqual(open.data, { signUp: { username: 'erin', state: 'ACTIVE' } });
    // erin may act at once: she adds a key and removes it again; it is gone from the configuration too.
    const erin = await tokenFor('erin');
    await cli(['key', 'add', '-'], { token: erin, input: erinKey.armored });
    await cli(['key', 'remove', erinKey.fingerprint], { token: erin });
    assert.match((await cli(['key', 'show'], { token: erin })).stdout, /^no keys on your profile/);
    const gone = await daemon.cli(['config', 'uploader', 'show', erinKey.fingerprint]);
    assert.equal(gone.exitCode, 1);
    assert.match(gone.stderr, new RegExp(`there is no uploader "${erinKey.fingerprint}"`));

    // The rest of the CLI: every key for staff, deactivate one, and an admin's role and state changes.
    const list = await cli(['key', 'list'], { token: sam });
    assert.match(
      list.stdout,
      new RegExp(`^${aliceKey.fingerprint}\\s+alice\\s+ed25519\\s+prepared\\s+checked\\s+test\\s+no$`, 'm'),
    );
    assert.match(
      list.stdout,
      new RegExp(`^${carolKey.fingerprint}\\s+carol\\s+ed25519\\s+active\\s+checked\\s+test\\s+no$`, 'm'),
    );
    assert.match((await cli(['key', 'deactivate', carolKey.fingerprint], { token: sam })).stdout, /deactivated$/m);
    assert.match((await cli(['user', 'role', 'erin', 'staff'])).stdout, /^erin is staff now$/m);
    assert.match((await cli(['user', 'deactivate', 'erin'])).stdout, /^erin deactivated$/m);
    assert.match((await cli(['user', 'activate', 'erin'])).stdout, /^erin activated$/m);
    const users = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as {
      username: string;
      state: string;
      role: string;
    }[];
    const erin2 = users.find((u) => u.username === 'erin');
    assert.deepEqual([erin2?.state, erin2?.role], ['ACTIVE', 'STAFF']);
  });

  it('lets an admin reset a password, change a role and reactivate a user on the administration page', async () => {
    const page = await browser.signedInPage('/admin', 'admin', ADMIN_PASSWORD);
    const carol = page.locator(`${tid('admin-user-row')}[data-username="carol"]`);
    assert.equal(await carol.getAttribute('data-state'), 'DEACTIVATED');
    await carol.locator(tid('admin-user-activate')).click();
    await page.locator(`${tid('admin-user-row')}[data-username="carol"][data-state="ACTIVE"]`).waitFor();
    await carol.locator(tid('admin-user-role')).selectOption('STAFF');
    await page.locator(`${tid('admin-user-row')}[data-username="carol"][data-role="STAFF"]`).waitFor();
    await carol.locator(tid('admin-user-reset-password')).click();
    await page.locator(tid('admin-password-input')).fill('a brand new passphrase');
    await page.locator(tid('admin-password-submit')).click();
    await page.locator(tid('admin-done')).filter({ hasText: 'password of carol set' }).waitFor();

    const other = await (await browser.newContext()).newPage();
    await other.goto('/sign-in');
    await signIn(other, 'carol', 'a brand new passphrase');
    assert.equal((await other.locator(tid('user-role')).textContent())?.trim(), 'staff');
  });
});
