// Event hooks and outgoing webhooks against the real daemon (managed database, no builds: user and
// configuration events are enough). A hooks directory with a hook that records its stdin, one that
// fails and one that hangs; a receiver that verifies the HMAC, is down at first (connection refused),
// then answers 503, then accepts; another that refuses everything (401). Then the webhook card in the
// console.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_PASSWORD, ConsoleBrowser, setPassword, tid } from '../support/browser.js';
import { eventually, TestDaemon } from '../support/daemon.js';
import { freePort } from '../support/postgres.js';
import { recentEvents, type EventRow } from '../support/scenarios.js';

const SECRET = 'e2e-webhook-secret-0123456789abcdef';
const HOOK_TIMEOUT_S = 2;

interface Delivery {
  path: string;
  status: number;
  event: EventRow & { timestamp: number };
}

/** An HTTP receiver that checks every delivery's signature and time stamp as a real one should. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  readonly problems: string[] = [];
  private readonly server: http.Server;

  constructor(private readonly answer: (path: string, count: number) => number) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
        const got = Buffer.from(String(req.headers['x-debyard-signature'] ?? ''));
        const event = JSON.parse(body.toString('utf8')) as Delivery['event'];
        if (got.length !== expected.length || !timingSafeEqual(got, expected))
          this.problems.push(`bad signature on ${req.url}: ${got.toString()}`);
        if (req.headers['x-debyard-timestamp'] !== String(event.timestamp))
          this.problems.push(`the timestamp header is not the signed one`);
        if (Math.abs(Date.now() / 1000 - event.timestamp) > 300)
          this.problems.push(`stale delivery ${event.timestamp}`);
        if (req.headers['x-debyard-event-id'] !== event.id) this.problems.push(`event id header ≠ body's id`);
        const p = req.url ?? '/';
        const status = this.answer(p, this.deliveries.filter((d) => d.path === p).length);
        this.deliveries.push({ path: p, status, event });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'thanks' : `no (${status})`);
      });
    });
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(p: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === p);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** True when the process is gone or a zombie (its state in /proc/PID/stat is Z). */
async function dead(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null || /^\d+ \(.*\) Z /.test(stat);
}

describe('event hooks and webhooks', { concurrency: false, timeout: 180_000 }, () => {
  let daemon: TestDaemon;
  let token: string;
  let parent: string;
  let hooksDir: string;
  let out: string;
  /** Down at first; then 503 once, then 200. Gets USER_CREATED only. */
  const flaky = new Receiver((_p, n) => (n === 0 ? 503 : 200));
  let flakyUrl: string;
  /** Refuses everything with 401 except /console. Gets every event. */
  const refusing = new Receiver((p) => (p === '/console' ? 200 : 401));
  let refusingUrl: string;
  let browser: ConsoleBrowser;
  let userEvent: EventRow;
  /** What the daemon logged before the restart. */
  let earlierLogs = '';

  const cli = async (args: string[], input?: string) => {
    const r = await daemon.cli(args, input === undefined ? {} : { input });
    assert.equal(r.exitCode, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const hook = async (name: string, body: string) => {
    await fs.writeFile(path.join(hooksDir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  };
  const eventsOf = async (type: string) => (await recentEvents(daemon, 200)).filter((e) => e.type === type);

  before(async () => {
    parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-e2e-hooks-'));
    await fs.chmod(parent, 0o755);
    hooksDir = path.join(parent, 'hooks.d');
    out = path.join(parent, 'out');
    await fs.mkdir(hooksDir, { mode: 0o755 });
    await fs.mkdir(out);
    await fs.chmod(out, 0o777); // the hooks run as the daemon user
    await hook(
      '10-record',
      `f="${out}/$DEBYARD_EVENT_ID-$DEBYARD_EVENT_TYPE.json"; cat > "$f.tmp" && mv "$f.tmp" "$f"`,
    );
    await hook(
      '20-fail',
      '[ "$DEBYARD_EVENT_TYPE" = USER_CREATED ] || exit 0; echo "the tracker is unreachable" >&2; exit 4',
    );
    await hook(
      '30-hang',
      `[ "$DEBYARD_EVENT_TYPE" = USER_CREATED ] || exit 0
echo "$DEBYARD_EVENT_ID $(date +%s.%N)" >> ${out}/hang.starts
sleep 300 & echo $! >> ${out}/hang.children
wait`,
    );
    await fs.writeFile(path.join(hooksDir, 'README'), 'not a hook\n', { mode: 0o644 });
    await fs.symlink('/bin/true', path.join(hooksDir, '40-escape'));

    const port = await freePort();
    flakyUrl = `http://127.0.0.1:${port}/debyard`;
    refusingUrl = await refusing.listen();
    daemon = await TestDaemon.start();
    token = await daemon.adminToken;
    await setPassword(daemon, 'admin', ADMIN_PASSWORD);
    await cli([
      'config',
      'daemon',
      'create',
      'daemon',
      'identity=hooktest',
      'emailAddress=hooks@example.org',
      `hooksDir=${hooksDir}`,
      `hookTimeout=${HOOK_TIMEOUT_S}`,
    ]);
    assert.match(await cli(['webhook', 'add', flakyUrl, '--events', 'user_created'], SECRET), /gets USER_CREATED$/m);
    assert.match(await cli(['webhook', 'add', `${refusingUrl}/refuse`], SECRET), /gets every event$/m);
  });
  after(async () => {
    await browser?.close();
    await daemon?.dispose();
    await flaky.close().catch(() => undefined);
    await refusing.close();
    await fs.rm(parent, { recursive: true, force: true });
  });
  afterEach(async (t) => browser?.afterEach(t));

  it('delivers to a webhook that refused connections across a restart, then answered 503: signed, once', async () => {
    await cli(['user', 'add', 'hookuser', '--role', 'uploader']);
    userEvent = (await eventsOf('USER_CREATED')).find((e) => e.payload.username === 'hookuser')!;
    assert.ok(userEvent);
    const refused = new RegExp(
      `delivery of event ${userEvent.id} \\(USER_CREATED\\) to webhook 1 \\(${flakyUrl.replace(/[.]/g, '\\.')}\\) failed \\(attempt 1 of 20\\): connection refused \\(ECONNREFUSED\\); graphile-worker retries it`,
    );
    await eventually(async () => (refused.test(daemon.logs) ? true : undefined), 15_000);
    // The delivery waits in the database: a restart (which also kills running hooks) loses nothing.
    const stop = await daemon.stop();
    assert.equal(stop.exitCode, 0);
    assert.ok(stop.ms < 5000, `stopping took ${stop.ms} ms`);
    earlierLogs = daemon.logs;
    const started = Date.now();
    await flaky.listen(Number(new URL(flakyUrl).port));
    daemon = await TestDaemon.start({ dataDir: daemon.dataDir, httpPort: daemon.httpPort, ftpPort: daemon.ftpPort });
    token = await daemon.adminToken;
    const delivered = await eventually(async () => flaky.on('/debyard').find((d) => d.status === 200), 40_000);
    console.log(`# delivered ${((Date.now() - started) / 1000).toFixed(1)} s after the receiver came back`);
    assert.deepEqual(flaky.problems, []);
    assert.deepEqual(
      flaky.deliveries.map((d) => [d.event.id, d.event.type, d.status]),
      [
        [userEvent.id, 'USER_CREATED', 503],
        [userEvent.id, 'USER_CREATED', 200],
      ],
      'only USER_CREATED, retried after the 503, accepted once',
    );
    assert.equal(delivered.event.summary, userEvent.summary);
    assert.deepEqual(delivered.event.payload, userEvent.payload);
    const ls = JSON.parse(await cli(['webhook', 'ls', '--json'])) as {
      id: string;
      secret: string;
      lastOk: boolean;
      lastResult: string;
    }[];
    assert.equal(ls[0]!.secret, '***');
    assert.equal(ls[0]!.lastOk, true);
    assert.match(ls[0]!.lastResult, /^HTTP 200 in \d+ ms \(attempt \d+ of 20\)$/);
    assert.ok(!(await cli(['webhook', 'ls'])).includes(SECRET), 'the secret never shows');
  });

  it('runs every hook with the event on stdin; kills the one that hangs at its limit; other work goes on', async () => {
    const recorded = await eventually(
      () =>
        fs
          .readFile(path.join(out, `${userEvent.id}-USER_CREATED.json`), 'utf8')
          .then((t) => JSON.parse(t) as EventRow)
          .catch(() => undefined),
      15_000,
    );
    assert.deepEqual(
      { id: recorded.id, type: recorded.type, summary: recorded.summary, payload: recorded.payload },
      { id: userEvent.id, type: 'USER_CREATED', summary: userEvent.summary, payload: userEvent.payload },
    );
    // While 30-hang holds a slot (three attempts of 2 s), other events' hooks and the API go on.
    const t0 = Date.now();
    await cli(['user', 'add', 'another', '--role', 'uploader']);
    const other = (await eventsOf('USER_CREATED')).find((e) => e.payload.username === 'another')!;
    await eventually(
      () =>
        fs
          .stat(path.join(out, `${other.id}-USER_CREATED.json`))
          .then(() => true)
          .catch(() => undefined),
      10_000,
    );
    console.log(`# another event's hook ran ${Date.now() - t0} ms after the command`);

    // Two failing hooks for each of the two USER_CREATED events.
    const all = await eventually(async () => {
      const events = await eventsOf('HOOK_FAILED');
      return events.length === 4 ? events : undefined;
    }, 60_000);
    const failed = all.filter((e) => e.payload.event === userEvent.id);
    const byHook = Object.fromEntries(failed.map((e) => [e.payload.hook, e]));
    assert.match(
      String(byHook['30-hang']?.payload.reason),
      new RegExp(`30-hang did not finish within ${HOOK_TIMEOUT_S} s and was killed with its process group`),
    );
    assert.equal(byHook['30-hang']?.payload.attempts, 3);
    assert.match(
      String(byHook['20-fail']?.payload.reason),
      /20-fail exited with code 4; its output ends: the tracker is unreachable$/,
    );
    assert.match(
      earlierLogs + daemon.logs,
      new RegExp(`event hook 30-hang failed for event ${other.id} \\(attempt 1 of 3\\): \\S+ did not finish within`),
    );
    assert.match(
      daemon.logs,
      /event hook not run: hook \S+\/40-escape refused: it is a link to \/(usr\/)?bin\/true, outside /,
    );

    // Killed at the limit: the next attempt starts about limit + backoff (e¹ s) + polling later, never 300 s.
    const lines = (await fs.readFile(path.join(out, 'hang.starts'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 6, 'three attempts for each of the two USER_CREATED events');
    // The other event's attempts: the first of userEvent's may have been cut short by the restart.
    const starts = lines.filter((l) => l.startsWith(`${other.id} `)).map((l) => Number(l.split(' ')[1]));
    const gap = starts[1]! - starts[0]!;
    assert.ok(gap > HOOK_TIMEOUT_S && gap < HOOK_TIMEOUT_S + 2.72 + 4, `attempts 1 and 2 started ${gap} s apart`);
    // The background child of every attempt died with its group (a zombie awaits reaping by init at most).
    const children = (await fs.readFile(path.join(out, 'hang.children'), 'utf8')).trim().split('\n').map(Number);
    assert.equal(children.length, 6);
    await eventually(async () => ((await Promise.all(children.map(dead))).every(Boolean) ? true : undefined), 5000);
  });

  it('never delivers events about failed deliveries: no loop from a target that refuses everything', async () => {
    const refusals = refusing.on('/refuse');
    assert.ok(refusals.length >= 3, `the refusing webhook got ${refusals.length} events`);
    assert.deepEqual(refusing.problems, []);
    // Each event it got was refused once (4xx is not retried) and recorded once (the last may be on its way).
    const received = [...new Set(refusals.map((d) => d.event.id))].sort();
    const webhookFailed = await eventually(async () => {
      const events = await eventsOf('WEBHOOK_FAILED');
      return events.length >= received.length ? events : undefined;
    });
    assert.deepEqual(webhookFailed.map((e) => String(e.payload.event)).sort(), received);
    assert.match(
      webhookFailed[0]!.summary,
      /to webhook 2 \(.*\/refuse\) failed after 1 attempt: HTTP 401: no \(401\): the target refuses the delivery \(check its URL and secret\); not retried$/,
    );
    const types = new Set(refusals.map((d) => d.event.type));
    assert.ok(!types.has('WEBHOOK_FAILED') && !types.has('HOOK_FAILED'), [...types].join(', '));
    const files = await fs.readdir(out);
    assert.ok(files.some((f) => f.endsWith('-USER_CREATED.json')));
    assert.deepEqual(
      files.filter((f) => /-(HOOK|WEBHOOK)_FAILED\.json$/.test(f)),
      [],
      'no hook ran for a failure event',
    );
  });

  it('bad input: precise errors for URLs, secrets, event types, hooksDir and anybody but an admin', async () => {
    const cases: [string[], string, RegExp][] = [
      [['webhook', 'add', 'ftp://example.org/x'], SECRET, /url: the scheme must be http or https, not "ftp"/],
      [['webhook', 'add', 'https://u:p@example.org/x'], SECRET, /url: must not hold a user or password/],
      [['webhook', 'add', 'https://example.org/x'], 'short', /secret: must be 16 to 256 printable ASCII characters/],
      [
        ['webhook', 'add', 'https://example.org/x', '--events', 'INSTALED'],
        SECRET,
        /eventTypes: unknown event type "INSTALED"; known types: /,
      ],
      [
        ['webhook', 'add', 'https://example.org/x', '--events', 'WEBHOOK_FAILED'],
        SECRET,
        /WEBHOOK_FAILED is never delivered/,
      ],
      [['webhook', 'add', flakyUrl], SECRET, /webhook 1 posts to .* already: remove it first, or give another URL/],
      [['webhook', 'remove', '99'], '', /there is no webhook 99/],
      [
        ['config', 'daemon', 'set', 'daemon', 'hooksDir=/tmp'],
        '',
        /hooksDir: \/tmp is writable by group or others \(mode 777\)/,
      ],
      [['config', 'daemon', 'set', 'daemon', 'hooksDir=hooks.d'], '', /hooksDir: "hooks\.d" is not an absolute path/],
      [
        ['config', 'daemon', 'set', 'daemon', 'hookTimeout=0'],
        '',
        /hookTimeout: expected a whole number from 1 to 3600/,
      ],
    ];
    for (const [args, input, message] of cases) {
      const r = await daemon.cli(args, { input });
      assert.equal(r.exitCode, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
    }
    const gql = await daemon.gql(
      'mutation { addWebhook(input: {url: "gopher://x", secret: "0123456789abcdef"}) { id } }',
      {},
      token,
    );
    assert.equal(gql.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal((gql.errors?.[0]?.extensions as { field?: string }).field, 'url');
    const uploader = (await cli(['token', 'create', '--for', 'another', '--name', 'hooks'])).trim();
    for (const [t, code] of [
      [uploader, 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
    ] as const) {
      const r = await daemon.gql('{ webhooks { id url } }', {}, t);
      assert.equal(r.errors?.[0]?.extensions?.code, code);
    }
    assert.equal((await daemon.cli(['webhook', 'ls'], { token: uploader })).exitCode, 4);
  });

  it('console: the webhook card on the daemon’s page adds, tests, switches off and removes webhooks', async () => {
    browser = await ConsoleBrowser.launch({
      baseURL: daemon.httpUrl,
      viewport: { width: 1280, height: 900 },
      timeoutMs: 15_000,
      name: 'hooks',
    });
    const page: Page = await browser.signedInPage('/config/daemon/daemon', 'admin', ADMIN_PASSWORD);
    const card = page.locator(tid('webhooks-card'));
    await card.waitFor();
    await page.locator(`${tid('config-field')}[data-field="hooksDir"]`).waitFor();
    await card.locator(tid('webhook-row')).nth(1).waitFor();
    assert.equal(await card.locator(tid('webhook-row')).count(), 2);
    assert.ok(!(await card.textContent())!.includes(SECRET));

    await card.locator(tid('webhook-url-input')).fill('ftp://example.org/');
    await card.locator(tid('webhook-secret-input')).fill(SECRET);
    await card.locator(tid('webhook-add')).click();
    const error = card.locator(tid('webhook-error'));
    await error.waitFor();
    assert.equal(await error.getAttribute('data-field'), 'url');
    assert.match((await error.textContent())!, /the scheme must be http or https, not "ftp"/);
    assert.equal(await card.locator(tid('webhook-url-input')).getAttribute('aria-invalid'), 'true');

    await card.locator(tid('webhook-url-input')).fill(`${refusingUrl}/console`);
    await card.locator(tid('webhook-events-input')).fill('INSTALLED, FAILED');
    await card.locator(tid('webhook-add')).click();
    const row = card.locator(`${tid('webhook-row')}[data-id="3"]`);
    await row.waitFor();
    assert.equal(await error.count(), 0);
    assert.equal(await row.locator(tid('webhook-events')).textContent(), 'INSTALLED, FAILED');
    assert.match((await row.textContent())!, /secret \*\*\*/);

    await row.locator(tid('webhook-test')).click();
    const result = row.locator(tid('webhook-test-result'));
    await result.waitFor();
    assert.equal(await result.getAttribute('data-ok'), 'true');
    assert.match((await result.textContent())!, /HTTP 200 in \d+ ms/);
    const ping = refusing.on('/console').at(-1)!;
    assert.equal(ping.event.type, 'PING');
    assert.deepEqual(refusing.problems, []);

    await row.locator(tid('webhook-toggle')).click();
    await card.locator(`${tid('webhook-row')}[data-id="3"][data-active="false"]`).waitFor();
    assert.equal((await eventsOf('WEBHOOK_CHANGED')).length, 1);
    await row.locator(tid('webhook-remove')).click();
    await row.waitFor({ state: 'detached' });
    assert.equal(await card.locator(tid('webhook-row')).count(), 2);
    assert.equal((await eventsOf('WEBHOOK_REMOVED'))[0]?.payload.webhook, 3);
  });

  it('CLI: test answers how the target took a PING; deactivate stops deliveries, activate resumes them; remove', async () => {
    const ok = await daemon.cli(['webhook', 'test', '1']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stdout, /^webhook 1: HTTP 200 in \d+ ms$/m);
    const no = await daemon.cli(['webhook', 'test', '2']);
    assert.equal(no.exitCode, 1);
    assert.match(
      no.stderr,
      /^debyard: error: webhook 2: HTTP 401: no \(401\): the target refuses the delivery.* \(WEBHOOK_TEST_FAILED\)$/,
    );

    assert.match(await cli(['webhook', 'deactivate', '2']), /webhook 2 is inactive/);
    await cli(['user', 'add', 'quiet', '--role', 'uploader']);
    assert.match(await cli(['webhook', 'activate', '2']), /webhook 2 is active/);
    await cli(['user', 'add', 'loud', '--role', 'uploader']);
    const usersSeen = () =>
      refusing
        .on('/refuse')
        .filter((d) => d.event.type === 'USER_CREATED')
        .map((d) => d.event.payload.username);
    await eventually(async () => (usersSeen().includes('loud') ? true : undefined));
    assert.ok(!usersSeen().includes('quiet'), 'nothing was delivered while it was inactive');
    assert.match(
      await cli(['webhook', 'ls']),
      /^2 +http:\/\/127\.0\.0\.1:\d+\/refuse +\(all\) +yes +failed: HTTP 401/m,
    );

    assert.match(await cli(['webhook', 'remove', '2']), /webhook 2 \(http:\/\/127\.0\.0\.1:\d+\/refuse\) removed/);
    assert.doesNotMatch(await cli(['webhook', 'ls']), /\/refuse/);
  });
});
