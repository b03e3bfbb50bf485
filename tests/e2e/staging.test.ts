// Repository maintenance end to end (mini-buildd §3.6–3.7) on a real daemon with a real chroot: hello-c
// uploaded to unstable is migrated to testing and stable, a newer version along the whole chain, the
// older one restored from stable's rollback0, then removed with a rollback kept — and apt in a chroot
// session following stable (or its rollback) sees each change. A migration whose dependencies the
// target lacks is refused naming them, and goes with --force. Every refusal has its code (GraphQL)
// and exit code (CLI) and changes nothing. Then the console's repository browser and one confirmed
// action in Chromium.
//
// The `it`s run in order and share one daemon; three builds in all.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { schrootName } from '@debyard/server/dist/chroot/chroot-ops.js';
import { aptInstallInChroot } from '../support/apt.js';
import { ADMIN_PASSWORD, ConsoleBrowser, artifact, setPassword, tid } from '../support/browser.js';
import { PipelineFixture, V } from '../support/pipeline.js';

const D = (suite: string) => `bookworm-test-${suite}`;
const UNSTABLE = D('unstable');
const TESTING = D('testing');
const STABLE = D('stable');
const CHANGE =
  'action source version repository distribution steps { from to } changes { distribution before after } summary ' +
  'dependencies { checked forced against broken { package version architecture distribution reasons missing } }';
/** Long enough for the first dependency check, which fetches the mirror's Packages files. */
const SLOW = { timeoutMs: 180_000 };

interface Change {
  action: string;
  version: string;
  steps: { from: string; to: string | null }[];
  changes: { distribution: string; before: string | null; after: string | null }[];
  summary: string[];
  dependencies: { checked: boolean; forced: boolean; against: string[]; broken: { missing: string[] }[] } | null;
}
interface EventRow {
  id: string;
  type: string;
  summary: string;
  payload: Record<string, unknown>;
}

describe('staging: migrate, rollbacks, restore, remove; apt sees each change', { concurrency: false }, () => {
  let f: PipelineFixture;
  let keyring: Uint8Array;
  let browser: ConsoleBrowser | undefined;

  /** source → distribution → version, as `debyard ls --json` lists it. */
  const versions = async (source: string) => {
    const r = await f.daemon.cli(['ls', source, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    return Object.fromEntries(
      (JSON.parse(r.stdout) as { distribution: string; version: string }[]).map((v) => [v.distribution, v.version]),
    );
  };
  const events = async (since: string) =>
    (await f.gql<{ events: EventRow[] }>('{ events(limit: 200) { id type summary payload } }')).events
      .filter((e) => BigInt(e.id) > BigInt(since) && ['MIGRATED', 'REMOVED', 'RESTORED'].includes(e.type))
      .reverse();
  const lastEvent = async () =>
    (await f.gql<{ events: { id: string }[] }>('{ events(limit: 1) { id } }')).events[0]!.id;
  /** apt-get install in a chroot session following `distribution` only; what dpkg then has of `pkg`. */
  const aptSees = async (distribution: string, pkg = 'hello-c') => {
    const r = await aptInstallInChroot(schrootName(f.daemon.dataDir, 'bookworm-amd64'), {
      line: (k) => `deb [signed-by=${k}] ${f.daemon.httpUrl}/repositories/test/ ${distribution} main`,
      keyring,
      packages: [pkg],
      check: `dpkg-query -W -f='installed \${Version}\\n' ${pkg}`,
    });
    return r.exitCode === 0 ? /^installed (\S+)$/m.exec(r.output)?.[1] : `failed: ${r.output.slice(-300)}`;
  };
  const cli = async (args: string[], exitCode = 0) => {
    const r = await f.daemon.cli(args, SLOW);
    assert.equal(r.exitCode, exitCode, `debyard ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };

  before(async () => {
    f = await PipelineFixture.start('staging');
    keyring = new Uint8Array(await (await fetch(`${f.daemon.httpUrl}/archive-keyring.gpg`)).arrayBuffer());
    // uses-hello build-depends on hello-c, so hello-c must be in unstable before it builds.
    await f.upload('hello-c', V('1.0'));
    assert.equal((await f.settled('hello-c', V('1.0'))).state, 'INSTALLED');
    await f.upload('uses-hello', V('1.0'));
    const uses = await f.settled('uses-hello', V('1.0'));
    assert.equal(uses.state, 'INSTALLED', uses.reason ?? '');
  });

  afterEach((t) => browser?.afterEach(t));

  after(async () => {
    await browser?.close();
    await f?.dispose();
  });

  it('refuses to migrate uses-hello to testing while its dependency hello-c is only in unstable, naming it; --force goes', async () => {
    const t0 = Date.now();
    const refused = await f.daemon.gql(
      `mutation { migrate(source: "uses-hello", distribution: "${UNSTABLE}") { ${CHANGE} } }`,
      {},
      f.token,
    );
    const error = refused.errors?.[0] as { message: string; extensions: Record<string, unknown> } | undefined;
    assert.equal(error?.extensions.code, 'DEPENDENCIES_UNSATISFIED', JSON.stringify(refused));
    assert.deepEqual(error.extensions.missing, ['hello-c']);
    assert.match(error.message, /uses-hello 1\.0~test12\+1 cannot migrate to bookworm-test-testing: .*needs hello-c/);
    assert.match(error.message, /Debian:bookworm/);
    console.log(`# dependency check with the mirror fetched: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal((await versions('uses-hello'))[TESTING], undefined, 'nothing changed');

    const cliRefused = await cli(['migrate', 'uses-hello', UNSTABLE], 1);
    assert.match(cliRefused.stderr, /needs hello-c.*Migrate hello-c first, or force the migration/);
    const dry = await cli(['migrate', 'uses-hello', UNSTABLE, '--dry-run']);
    assert.match(dry.stdout, /dependency check: unsatisfied\n {2}uses-hello 1\.0~test12\+1 \(all\): hello-c/);

    const since = await lastEvent();
    const forced = await cli(['migrate', 'uses-hello', UNSTABLE, '--force']);
    assert.match(forced.stdout, /dependency check: skipped \(forced\)/);
    assert.equal((await versions('uses-hello'))[TESTING], V('1.0'));
    const [migrated] = await events(since);
    assert.equal(migrated?.type, 'MIGRATED');
    assert.deepEqual(
      [migrated.payload.source, migrated.payload.from, migrated.payload.distribution, migrated.payload.forced],
      ['uses-hello', UNSTABLE, TESTING, true],
    );
    assert.equal(migrated.payload.by, 'admin');
  });

  it('migrates hello-c to testing (CLI) and to stable (GraphQL); apt following stable installs it', async () => {
    const since = await lastEvent();
    const toTesting = await cli(['migrate', 'hello-c', UNSTABLE]);
    assert.match(
      toTesting.stdout,
      /hello-c 1\.0~test12\+1 migrates from bookworm-test-unstable to bookworm-test-testing/,
    );
    assert.match(toTesting.stdout, /dependency check: satisfied \(with Debian:bookworm/);
    const { migrate } = await f.gql<{ migrate: Change }>(
      `mutation { migrate(source: "hello-c", distribution: "${TESTING}") { ${CHANGE} } }`,
    );
    assert.deepEqual(migrate.steps, [{ from: TESTING, to: STABLE }]);
    assert.deepEqual(migrate.changes, [{ distribution: STABLE, before: null, after: V('1.0') }]);
    assert.equal(migrate.dependencies?.checked, true);
    assert.deepEqual(
      (await events(since)).map((e) => [e.type, e.payload.from, e.payload.distribution, e.payload.version]),
      [
        ['MIGRATED', UNSTABLE, TESTING, V('1.0')],
        ['MIGRATED', TESTING, STABLE, V('1.0')],
      ],
    );
    assert.deepEqual(await versions('hello-c'), { [STABLE]: V('1.0'), [TESTING]: V('1.0'), [UNSTABLE]: V('1.0') });
    // The next test's newer version builds while apt looks at stable (which it does not touch).
    await f.upload('hello-c', V('1.1'));
    assert.equal(await aptSees(STABLE), V('1.0'));
  });

  it('a newer version goes along the whole chain, the older one is restored from rollback0 and removed with a rollback; apt follows', async () => {
    assert.equal((await f.settled('hello-c', V('1.1'))).state, 'INSTALLED');

    const since = await lastEvent();
    const full = await cli(['migrate', 'hello-c', UNSTABLE, '--full', '--json']);
    const change = JSON.parse(full.stdout) as Change;
    assert.deepEqual(change.steps, [
      { from: UNSTABLE, to: TESTING },
      { from: TESTING, to: STABLE },
    ]);
    assert.ok(change.summary.includes(`stable's ${V('1.0')} becomes stable-rollback0`), change.summary.join('\n'));
    assert.deepEqual(await versions('hello-c'), {
      [STABLE]: V('1.1'),
      [`${STABLE}-rollback0`]: V('1.0'),
      [TESTING]: V('1.1'),
      [`${TESTING}-rollback0`]: V('1.0'),
      [UNSTABLE]: V('1.1'),
      [`${UNSTABLE}-rollback0`]: V('1.0'),
    });
    // ls marks rollbacks as such.
    const ls = await cli(['ls', 'hello-c']);
    assert.match(ls.stdout, /bookworm-test-stable-rollback0 +1\.0~test12\+1 +main +rollback 0 of bookworm-test-stable/);
    assert.equal(await aptSees(STABLE), V('1.1'));

    const restored = await cli(['restore', 'hello-c', STABLE, '0']);
    assert.match(
      restored.stdout,
      /hello-c 1\.0~test12\+1 from bookworm-test-stable-rollback0 goes back into bookworm-test-stable, replacing 1\.1~test12\+1/,
    );
    assert.equal(await aptSees(STABLE), V('1.0'));

    const removed = await cli(['remove', 'hello-c', STABLE]);
    assert.match(removed.stdout, /hello-c 1\.0~test12\+1 is removed from bookworm-test-stable/);
    const after = await versions('hello-c');
    assert.equal(after[STABLE], undefined);
    assert.equal(after[`${STABLE}-rollback0`], V('1.0'), 'the removed version is kept as rollback0');
    assert.equal(after[`${STABLE}-rollback1`], V('1.1'));
    assert.match((await aptSees(STABLE)) ?? '', /^failed: .*Unable to locate package hello-c/s);

    const happened = await events(since);
    assert.deepEqual(
      happened.map((e) => [e.type, e.payload.distribution]),
      [
        ['MIGRATED', TESTING],
        ['MIGRATED', STABLE],
        ['RESTORED', STABLE],
        ['REMOVED', STABLE],
      ],
    );
    assert.equal(happened[2]!.payload.from, `${STABLE}-rollback0`, 'the rollback asked for');
    assert.equal(happened[3]!.payload.keptIn, `${STABLE}-rollback0`);
    assert.match(
      happened[3]!.summary,
      /removed from bookworm-test-stable by admin \(kept in bookworm-test-stable-rollback0\)/,
    );
    await f.repreproCheck();
  });

  it('debdiff between two versions in the repository (GraphQL and CLI)', async () => {
    const { debdiff } = await f.gql<{ debdiff: { repository: string; text: string; identical: boolean } }>(
      `{ debdiff(source: "hello-c", from: "${V('1.0')}", to: "${V('1.1')}") { repository text identical } }`,
    );
    assert.equal(debdiff.repository, 'test');
    assert.equal(debdiff.identical, false);
    assert.match(debdiff.text, /changelog/);
    assert.match(debdiff.text, /1\.1~test12\+1/);
    const r = await cli(['debdiff', 'hello-c', V('1.0'), V('1.1')]);
    assert.match(r.stdout, /1\.1~test12\+1/);
    const missing = await cli(['debdiff', 'hello-c', V('1.0'), '9.9'], 1);
    assert.match(missing.stderr, /no repository has both hello-c 1\.0~test12\+1 and 9\.9/);
  });

  it('refuses bad input with a precise code (GraphQL) and exit code (CLI), changing nothing', async () => {
    // stable is empty; rollback0 and rollback2 hold 1.0, rollback1 1.1: restore 1.1 into the empty stable.
    const prep = await cli(['restore', 'hello-c', STABLE, '1']);
    assert.doesNotMatch(prep.stdout, /becomes/, 'nothing to shift out of an empty distribution');
    const before = await versions('hello-c');
    const since = await lastEvent();
    const cases: [string, string, string[], RegExp][] = [
      [
        `migrate(source: "nope-pkg", distribution: "${UNSTABLE}")`,
        'SOURCE_NOT_FOUND',
        ['migrate', 'nope-pkg', UNSTABLE],
        /nope-pkg is not in bookworm-test-unstable: repository test has no version of nope-pkg/,
      ],
      [
        `migrate(source: "hello-c", distribution: "${UNSTABLE}", version: "9.9")`,
        'SOURCE_NOT_FOUND',
        ['migrate', 'hello-c', UNSTABLE, '--version', '9.9'],
        /hello-c 9\.9 is not in bookworm-test-unstable/,
      ],
      [
        `migrate(source: "hello-c", distribution: "${UNSTABLE}")`,
        'ALREADY_MIGRATED',
        ['migrate', 'hello-c', UNSTABLE],
        /hello-c 1\.1~test12\+1 is in bookworm-test-testing already/,
      ],
      [
        `migrate(source: "hello-c", distribution: "${STABLE}")`,
        'NO_MIGRATION_TARGET',
        ['migrate', 'hello-c', STABLE],
        /bookworm-test-stable migrates nowhere/,
      ],
      [
        `migrate(source: "hello-c", distribution: "${STABLE}-rollback0")`,
        'ROLLBACK_DISTRIBUTION',
        ['migrate', 'hello-c', `${STABLE}-rollback0`],
        /is a rollback distribution: nothing migrates from a rollback/,
      ],
      [
        `restore(source: "hello-c", distribution: "${STABLE}-rollback0", rollback: 1)`,
        'ROLLBACK_DISTRIBUTION',
        ['restore', 'hello-c', `${STABLE}-rollback0`, '1'],
        /is a rollback distribution/,
      ],
      [
        `restore(source: "hello-c", distribution: "${STABLE}", rollback: 6)`,
        'ROLLBACK_OUT_OF_RANGE',
        ['restore', 'hello-c', STABLE, '6'],
        /bookworm-test-stable has rollbacks 0 to 5, not 6/,
      ],
      [
        `restore(source: "hello-c", distribution: "${STABLE}", rollback: 5)`,
        'ROLLBACK_EMPTY',
        ['restore', 'hello-c', STABLE, '5'],
        /bookworm-test-stable-rollback5 holds no version of hello-c/,
      ],
      [
        `restore(source: "hello-c", distribution: "${STABLE}", rollback: 1)`,
        'VERSION_EXISTS',
        ['restore', 'hello-c', STABLE, '1'],
        /hello-c 1\.1~test12\+1 is in bookworm-test-stable already: nothing to restore/,
      ],
      [
        `remove(source: "hello-c", distribution: "${STABLE}", version: "1.0~test12+1")`,
        'SOURCE_NOT_FOUND',
        ['remove', 'hello-c', STABLE, '--version', '1.0~test12+1'],
        /hello-c 1\.0~test12\+1 is not in bookworm-test-stable/,
      ],
      [
        `migrate(source: "hello-c", distribution: "bookworm-nosuch-unstable")`,
        'DISTRIBUTION_UNKNOWN',
        ['migrate', 'hello-c', 'bookworm-nosuch-unstable'],
        /there is no repository "nosuch"/,
      ],
      [
        `remove(source: "Bad_Name", distribution: "${STABLE}")`,
        'BAD_USER_INPUT',
        ['remove', 'Bad_Name', STABLE],
        /"Bad_Name" is not a source package name/,
      ],
    ];
    // Refusals change nothing, so they are asked all at once.
    await Promise.all(
      cases.map(async ([mutation, code, args, message]) => {
        const r = await f.daemon.gql(`mutation { ${mutation} { source } }`, {}, f.token);
        const error = r.errors?.[0] as { message: string; extensions: { code: string } } | undefined;
        assert.equal(error?.extensions.code, code, `${mutation}: ${JSON.stringify(r)}`);
        assert.match(error.message, message);
        const c = await cli(args, 1);
        assert.match(c.stderr, message, args.join(' '));
      }),
    );
    assert.equal((await cli(['restore', 'hello-c', STABLE, 'one'], 2)).stderr.includes('whole number'), true);

    // Roles: staff or admin only.
    await f.daemon.cli(['user', 'add', 'ulla', '--role', 'uploader']);
    const { secret } = JSON.parse((await f.daemon.cli(['token', 'create', '--for', 'ulla', '--json'])).stdout) as {
      secret: string;
    };
    const uploader = await f.daemon.gql(
      `mutation { remove(source: "hello-c", distribution: "${TESTING}") { source } }`,
      {},
      secret,
    );
    assert.equal((uploader.errors?.[0] as { extensions: { code: string } }).extensions.code, 'FORBIDDEN');
    const anonymous = await f.daemon.gql(
      `mutation { remove(source: "hello-c", distribution: "${TESTING}") { source } }`,
    );
    assert.equal((anonymous.errors?.[0] as { extensions: { code: string } }).extensions.code, 'UNAUTHENTICATED');
    const denied = await f.daemon.cli(['remove', 'hello-c', TESTING], { token: secret });
    assert.equal(denied.exitCode, 4);
    assert.match(denied.stderr, /needs the STAFF role/);

    assert.deepEqual(await versions('hello-c'), before, 'no refusal changed the repository');
    assert.deepEqual(await events(since), []);
  });

  it('the console: the repository browser shows versions and rollbacks; an action says exactly what will happen and does it', async () => {
    await setPassword(f.daemon, 'admin', ADMIN_PASSWORD);
    browser = await ConsoleBrowser.launch({
      baseURL: f.daemon.httpUrl,
      viewport: { width: 1400, height: 900 },
      timeoutMs: 20_000,
      name: 'staging',
    });
    // Anonymous visitors see the browser, but no actions.
    const anonymous = await (await browser.newContext()).newPage();
    await anonymous.goto('/browse/test');
    const anonRow = anonymous.locator(`${tid('browser-package')}[data-source="hello-c"][data-codename="bookworm"]`);
    await anonRow.waitFor();
    assert.equal(await anonymous.locator(tid('browser-action')).count(), 0);

    const page = await browser.signedInPage('/repositories', 'admin', ADMIN_PASSWORD);
    await page.locator(`${tid('repository-card')}[data-repository="test"] ${tid('repository-browse')}`).click();
    await page.waitForURL(/\/browse\/test$/);
    const row = page.locator(`${tid('browser-package')}[data-source="hello-c"][data-codename="bookworm"]`);
    const cell = (suite: string) => row.locator(`${tid('browser-cell')}[data-suite="${suite}"]`);
    assert.equal(await cell('unstable').getAttribute('data-version'), V('1.1'));
    assert.equal(await cell('stable').getAttribute('data-version'), V('1.1'));
    const rollbacks = cell('stable').locator(tid('browser-rollback'));
    assert.deepEqual(await rollbacks.evaluateAll((els) => els.map((e) => e.getAttribute('data-rollback'))), [
      '0',
      '1',
      '2',
    ]);
    assert.equal(await rollbacks.first().getAttribute('data-version'), V('1.0'));
    await page.screenshot({ path: artifact('staging-browser.png'), fullPage: true });

    // Restore stable's rollback0: the confirmation says what comes back and how the rollbacks shift.
    await rollbacks
      .first()
      .locator(`${tid('browser-action')}[data-action="RESTORE"]`)
      .click();
    const dialog = page.locator(tid('staging-confirm'));
    const summary = dialog.locator(tid('staging-confirm-summary'));
    await summary.waitFor();
    const text = (await summary.textContent()) ?? '';
    for (const part of [
      `hello-c ${V('1.0')} from ${STABLE}-rollback0 goes back into ${STABLE}, replacing ${V('1.1')}`,
      `stable's ${V('1.1')} becomes stable-rollback0`,
      `stable-rollback0's ${V('1.0')} becomes stable-rollback1`,
    ])
      assert.ok(text.includes(part), `the confirmation says "${part}": ${text}`);
    await page.screenshot({ path: artifact('staging-confirm.png'), fullPage: true });
    await dialog.locator(tid('staging-confirm-apply')).click();
    await dialog.locator(tid('staging-confirm-done')).waitFor();
    await dialog.locator(tid('staging-confirm-close')).click();
    await page.waitForFunction(
      ([sel, v]) => document.querySelector(sel!)?.getAttribute('data-version') === v,
      [
        '[data-testid="browser-package"][data-source="hello-c"][data-codename="bookworm"] [data-testid="browser-cell"][data-suite="stable"]',
        V('1.0'),
      ],
    );
    assert.equal((await versions('hello-c'))[STABLE], V('1.0'));

    // A migration's confirmation shows its dependency check: uses-hello needs hello-c, which stable has.
    const uses = page.locator(`${tid('browser-package')}[data-source="uses-hello"][data-codename="bookworm"]`);
    await uses
      .locator(`${tid('browser-cell')}[data-suite="testing"] ${tid('browser-action')}[data-action="MIGRATE"]`)
      .click();
    const deps = dialog.locator(tid('staging-confirm-dependencies'));
    await deps.waitFor();
    assert.equal(await deps.getAttribute('data-state'), 'satisfied');
    assert.match(
      (await summary.textContent()) ?? '',
      new RegExp(`uses-hello ${V('1.0').replace(/[+.~]/g, '\\$&')} migrates from ${TESTING} to ${STABLE}`),
    );
    await dialog.locator(tid('staging-confirm-apply')).click();
    await dialog.locator(tid('staging-confirm-done')).waitFor();
    assert.equal((await versions('uses-hello'))[STABLE], V('1.0'));

    // The package page: the debdiff view and rollbacks marked as such.
    await page.goto('/packages/hello-c');
    const rb = page.locator(`${tid('package-version')}[data-distribution="${STABLE}-rollback0"]`);
    await rb.waitFor();
    assert.equal(await rb.getAttribute('data-rollback'), '0');
    await page.locator(tid('package-debdiff-from')).selectOption(V('1.0'));
    await page.locator(tid('package-debdiff-to')).selectOption(V('1.1'));
    await page.locator(tid('package-debdiff-run')).click();
    const diff = page.locator(tid('package-debdiff-text'));
    await diff.waitFor();
    assert.match((await diff.textContent()) ?? '', /1\.1~test12\+1/);
  });
});
