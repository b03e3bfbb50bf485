// Two real daemons on loopback (ernie and grover, each with its own data directory, ports and
// database) made each other's remotes through the CLI as in mini-buildd (reference/mini-buildd.md
// §5.3): ernie's check fails until grover lists it too, then passes by itself; both check both ways;
// grover stopped drops to auto-reactivate on ernie and comes back by itself when it returns; the wake
// command runs while it does not answer. Bad input: an unreachable URL, a URL that is not an instance,
// a handshake by an unknown key. Then ernie's builders page in a browser. The `it`s run in order.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { TestDaemon, eventually } from '../support/daemon.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';
import { CHECK_EVERY, ok, remoteBecomes, remoteOn, type RemoteRow } from '../support/remotes.js';

/** `debyard events --json` prints one event per line. */
function parseEvents(out: string): { id: string; type: string; summary: string }[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; type: string; summary: string });
}

describe('remotes: two instances build with each other', { timeout: 240_000 }, () => {
  let ernie: TestDaemon;
  let grover: TestDaemon;
  let groverDb: TestDatabase;
  const dbs: TestDatabase[] = [];
  let wakeDir: string;

  const startGrover = (dataDir?: string) =>
    TestDaemon.start({
      databaseUrl: groverDb.url,
      dataDir,
      httpPort: grover?.httpPort,
      ftpPort: grover?.ftpPort,
      args: ['--identity', 'grover', ...CHECK_EVERY],
    });

  before(async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    dbs.push(a!, b!);
    groverDb = b!;
    [ernie, grover] = await Promise.all([
      TestDaemon.start({ databaseUrl: a!.url, args: ['--identity', 'ernie', ...CHECK_EVERY] }),
      startGrover(),
    ]);
    // The handshake is signed with the instance key, which the daemon's prepare makes.
    for (const [d, identity] of [
      [ernie, 'ernie'],
      [grover, 'grover'],
    ] as const) {
      const values = [`identity=${identity}`, `emailAddress=debyard@${identity}.example`];
      ok(await d.cli(['config', 'daemon', 'create', 'daemon', ...values]), 'daemon create');
      ok(await d.cli(['config', 'daemon', 'pca', 'daemon']), 'daemon pca');
    }
    wakeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-e2e-wake-'));
    await fs.chmod(wakeDir, 0o777); // the daemon runs the wake command as its own user
  });

  after(async () => {
    await Promise.all([ernie?.dispose(), grover?.dispose()]);
    await Promise.all(dbs.map((d) => d.drop()));
    if (wakeDir) await fs.rm(wakeDir, { recursive: true, force: true });
    await stopScratchCluster();
  });

  it('serves mini-buildd’s status and pub_key calls', async () => {
    const status = (await (await fetch(`${ernie.httpUrl}/mini_buildd/api/status/`)).json()) as Record<string, unknown>;
    assert.equal(status.identity, 'ernie');
    assert.equal(status.url, ernie.httpUrl);
    assert.equal(status.load, 0);
    assert.deepEqual([status.chroots, status.remotes], [[], []]);
    assert.match(String(status.incoming_url), new RegExp(`^ftp://127\\.0\\.0\\.1:${ernie.ftpPort}`));
    const key = await fetch(`${ernie.httpUrl}/mini_buildd/api/pub_key/`);
    assert.equal(key.status, 200);
    assert.match(String(await key.json()), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const unknown = await fetch(`${ernie.httpUrl}/mini_buildd/api/setup/`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  it('adds each as the other’s remote: the first waits in auto-reactivate until the second lists it', async () => {
    const first = await ernie.cli(['remote', 'add', grover.httpUrl]);
    assert.match(ok(first, 'remote add on ernie'), /auto-reactivate — .*does not list us/);
    assert.match(first.stdout, /becomes active by itself once its check passes/);
    const waiting = await remoteOn(ernie, grover.httpUrl);
    assert.equal(waiting.identity, 'grover');
    assert.match(waiting.fingerprint, /^[0-9A-F]{40}$/);

    const second = ok(await grover.cli(['remote', 'add', `${ernie.httpUrl}/`]), 'remote add on grover');
    assert.match(second, new RegExp(`remote ${ernie.httpUrl} \\(ernie\\): active$`, 'm'));
    // ernie's scheduled check now passes: grover lists it and answers the handshake.
    const back = await remoteBecomes(ernie, grover.httpUrl, 'CHECKED');
    assert.equal(back.status, 'ACTIVE');
    assert.equal(back.load, 0);
    assert.equal(back.builds, 0);
    assert.ok(back.seenAt);
  });

  it('checks both ways: a signed handshake each way, each listed by the other', async () => {
    assert.match(ok(await ernie.cli(['remote', 'check', grover.httpUrl]), 'check'), /\(grover\): active$/m);
    assert.match(ok(await grover.cli(['remote', 'check', ernie.httpUrl]), 'check'), /\(ernie\): active$/m);
    const status = (await (await fetch(`${grover.httpUrl}/mini_buildd/api/status/`)).json()) as { remotes: string[] };
    assert.deepEqual(status.remotes, [ernie.httpUrl]);
    const list = ok(await ernie.cli(['remote', 'list']), 'list');
    assert.match(list, /URL\s+IDENTITY\s+STATE\s+LOAD/);
    assert.match(list, new RegExp(`${grover.httpUrl}\\s+grover\\s+active\\s+0\\.00`));
  });

  it('drops a stopped remote to auto-reactivate and brings it back by itself when it returns', async () => {
    const dataDir = grover.dataDir;
    const [last] = parseEvents(ok(await ernie.cli(['events', '--json', '-n', '1']), 'events'));
    await grover.stop();
    const down = await remoteBecomes(ernie, grover.httpUrl, 'AUTO_REACTIVATE');
    assert.equal(down.status, 'PREPARED');
    assert.match(down.problem ?? '', new RegExp(`cannot reach ${grover.httpUrl}: ECONNREFUSED`));
    grover = await startGrover(dataDir);
    const up = await remoteBecomes(ernie, grover.httpUrl, 'CHECKED');
    assert.equal(up.status, 'ACTIVE');
    // Only the changes are events: one failure, one return (a minute's checks in between record nothing).
    const events = parseEvents(ok(await ernie.cli(['events', '--json', '--since', last!.id]), 'events'));
    const about = events.filter((e) => e.summary.startsWith(`remote ${grover.httpUrl}`));
    const failed = about.filter((e) => e.type === 'CONFIG_FAILED' && /check failed: cannot reach/.test(e.summary));
    assert.equal(failed.length, 1, JSON.stringify(about, null, 1));
    assert.equal(about.filter((e) => e.summary === `remote ${grover.httpUrl} active again`).length, 1);
  });

  it('runs the wake command, with attempts, while the remote does not answer', async () => {
    const marker = path.join(wakeDir, 'woken');
    ok(
      await ernie.cli([
        'config',
        'remote',
        'set',
        grover.httpUrl,
        `wakeCommand=["/usr/bin/touch", "${marker}"]`,
        // A minute in all: grover's restart takes 20 s and more when the machine is loaded.
        'wakeAttempts=20',
        'wakeIntervalSeconds=3',
      ]),
      'set wake command',
    );
    // Deactivated, the schedule leaves it alone: only `remote wake` runs the command.
    ok(await ernie.cli(['config', 'remote', 'deactivate', grover.httpUrl]), 'deactivate');
    const dataDir = grover.dataDir;
    await grover.stop();
    const woken = ernie.cli(['remote', 'wake', grover.httpUrl, '--json']);
    await eventually(
      () =>
        fs.access(marker).then(
          () => true,
          () => undefined,
        ),
      30_000,
    );
    grover = await startGrover(dataDir);
    const r = JSON.parse(ok(await woken, 'remote wake')) as RemoteRow;
    assert.equal(r.identity, 'grover');
    assert.ok(r.seenAt && Date.parse(r.seenAt) > Date.now() - 60_000);
    ok(await ernie.cli(['config', 'remote', 'activate', grover.httpUrl]), 'activate');
    const back = await eventually(async () => {
      const now = await remoteOn(ernie, grover.httpUrl);
      return now.status === 'ACTIVE' && now.checkState === 'CHECKED' && now.load === 0 ? now : undefined;
    }, 30_000);
    assert.equal(back.problem, null);

    const anonymous = await ernie.gql(`mutation($u: String!) { wakeRemote(url: $u) { url } }`, { u: grover.httpUrl });
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('refuses an unreachable URL, a URL that is not an instance, and a malformed one, naming them', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await ernie.cli(['remote', 'add', `http://127.0.0.1:${port}`]);
    assert.equal(unreachable.exitCode, 1);
    assert.match(
      unreachable.stderr,
      new RegExp(
        `prepare of remote http://127\\.0\\.0\\.1:${port} failed: cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`,
      ),
    );

    const web = http.createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>It works</h1>'),
    );
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
      const notInstance = await ernie.cli(['remote', 'add', url]);
      assert.equal(notInstance.exitCode, 1);
      assert.match(
        notInstance.stderr,
        new RegExp(
          `${url} is not a debyard or mini-buildd instance: /mini_buildd/api/status/ answered HTTP 404 without JSON`,
        ),
      );
    } finally {
      web.close();
    }

    const malformed = await ernie.cli(['remote', 'add', 'grover:8066']);
    assert.equal(malformed.exitCode, 1);
    assert.match(malformed.stderr, /url: "grover:8066" is not http or https: give http\(s\):\/\/host:port/);
  });

  it('refuses a handshake signed by a key that is none of its remotes’, and logs it', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'mallory' }],
      format: 'object',
    });
    const signed = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text: 'Hand Shake 0123456789abcdef0123456789abcdef' }),
      signingKeys: privateKey,
    });
    const res = await fetch(
      `${ernie.httpUrl}/mini_buildd/api/handshake/?${new URLSearchParams({ signed_message: signed })}`,
    );
    assert.equal(res.status, 401);
    const body = (await res.json()) as { status: number; detail: string };
    assert.equal(body.status, 401);
    assert.match(body.detail, /handshake: no valid signature by a known key/);
    // The log line reaches us through the daemon's stdout pipe, a moment after the answer.
    await eventually(async () => (/refused a handshake/.test(ernie.logs) ? true : undefined), 10_000);

    const missing = await fetch(`${ernie.httpUrl}/mini_buildd/api/handshake/`);
    assert.equal(missing.status, 400);
  });

  describe('the builders page', () => {
    let browser: ConsoleBrowser;
    before(async () => {
      browser = await ConsoleBrowser.launch({
        baseURL: ernie.httpUrl,
        viewport: { width: 1280, height: 900 },
        timeoutMs: 15_000,
        name: 'remotes',
      });
    });
    afterEach((t) => browser.afterEach(t));
    after(() => browser?.close());

    it('lists the remotes with state, health, load and chroots', async () => {
      await setPassword(ernie, 'admin', ADMIN_PASSWORD);
      const page = await browser.signedInPage('/builders', 'admin', ADMIN_PASSWORD);
      const row = page.locator(`${tid('remote-row')}[data-url="${grover.httpUrl}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-status'), 'ACTIVE');
      assert.equal(await row.getAttribute('data-health'), 'up');
      assert.equal((await row.locator(tid('remote-link')).textContent())?.trim(), 'grover');
      assert.equal((await row.locator(tid('remote-load')).textContent())?.trim(), '0 %');
      assert.equal((await row.locator(tid('remote-chroots')).textContent())?.trim(), 'none');
      // Those that failed show why.
      const failed = page.locator(`${tid('remote-row')}[data-check="FAILED"]`).first();
      assert.match((await failed.locator(tid('remote-problem')).textContent()) ?? '', /ECONNREFUSED|not a debyard/);
      // Each links to its configuration page (its URL as the key), where the wake command is edited.
      await row.locator(tid('remote-link')).click();
      await page
        .locator(`${tid('config-object-key')}`)
        .filter({ hasText: grover.httpUrl })
        .waitFor();
      await page.locator(`${tid('config-field')}[data-field="wakeCommand"]`).waitFor();
    });
  });

  // Last: it leaves grover's remote on ernie failing.
  it('calls a remote with another key than the one it holds a key mismatch', async () => {
    const held = (await remoteOn(ernie, grover.httpUrl)).fingerprint;
    ok(await grover.cli(['config', 'daemon', 'remove', 'daemon']), 'daemon remove'); // drops the key
    ok(await grover.cli(['config', 'daemon', 'pca', 'daemon']), 'daemon pca'); // makes a new one
    const check = await ernie.cli(['remote', 'check', grover.httpUrl]);
    assert.equal(check.exitCode, 1);
    assert.match(
      check.stderr,
      new RegExp(
        `${grover.httpUrl} has the key [0-9A-F]{40} now, we hold ${held}: if it was given a new key, remove the remote and add it again`,
      ),
    );
    assert.equal((await remoteOn(ernie, grover.httpUrl)).checkState, 'AUTO_REACTIVATE');
  });
});
