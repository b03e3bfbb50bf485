import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { ADMIN_PASSWORD, launchChromium, setPassword, signIn, tid } from '../support/browser.js';
import { eventually } from '../support/daemon.js';
import { DIST, PipelineFixture, V } from '../support/pipeline.js';
import { LocalSmtp } from '../support/smtp.js';

/**
 * E-mail notifications end to end: a real local SMTP server (python3-aiosmtpd, Maildir), the daemon
 * with a real chroot, stock dput. A subscriber gets the INSTALLED mail within seconds; with the server
 * down the pipeline does not wait, and the mail goes out once it is back.
 */

describe('notifications: subscriptions and mail', { concurrency: false }, () => {
  let f: PipelineFixture;
  let smtp: LocalSmtp;
  let alice: string;

  const asAlice = <T>(query: string, variables: Record<string, unknown> = {}) =>
    f.daemon.gql<T>(query, variables, alice);

  /** graphile-worker's backoff grows to minutes: bring pending mail jobs forward (as the daemon user). */
  const retryMailNow = async () => {
    const r = await execa(
      'runuser',
      [
        '-u',
        'debyard',
        '--',
        'psql',
        '-h',
        path.join(f.daemon.dataDir, 'run'),
        '-d',
        'debyard',
        '-Atc',
        `update graphile_worker._private_jobs j set run_at = now() from graphile_worker._private_tasks t
           where t.id = j.task_id and t.identifier = 'notify_event' and j.locked_at is null returning j.id`,
      ],
      { reject: false, all: true, cwd: '/' },
    );
    assert.equal(r.exitCode, 0, String(r.all));
  };

  before(async () => {
    smtp = await LocalSmtp.start();
    f = await PipelineFixture.start('notifications');
    const set = await f.daemon.cli(['config', 'daemon', 'set', 'daemon', `smtpUrl=${smtp.url}`]);
    assert.equal(set.exitCode, 0, set.stdout + set.stderr);
    for (const args of [
      ['user', 'add', 'alice', '--role', 'uploader'],
      ['user', 'email', 'alice', 'alice@example.org'],
    ]) {
      const r = await f.daemon.cli(args);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    }
    const token = await f.daemon.cli(['token', 'create', '--for', 'alice', '--name', 'mail']);
    assert.equal(token.exitCode, 0, token.stderr);
    alice = token.stdout.trim();
    const sub = await f.daemon.cli(['subscribe', '--source', 'hello-all'], { token: alice });
    assert.equal(sub.exitCode, 0, sub.stdout + sub.stderr);
    assert.match(sub.stdout, /alice hears about hello-all in every distribution/);
  });
  after(async () => {
    await f?.dispose();
    await smtp?.dispose();
  });

  it('mails a subscriber of hello-all within seconds of INSTALLED: subject, links that work, the event as JSON', async () => {
    const version = V('1.0');
    await f.upload('hello-all', version);
    const u = await f.settled('hello-all', version);
    assert.equal(u.state, 'INSTALLED', u.reason ?? '');
    const subject = `[debyard ${f.identity}] INSTALLED hello-all ${version} (${DIST})`;
    const mail = await smtp.waitFor((m) => m.subject === subject, 15_000);
    console.log(
      `# INSTALLED mail ${((Date.now() - Date.parse(u.finishedAt!)) / 1000).toFixed(1)} s after the upload ended`,
    );
    assert.equal(mail.to, 'alice@example.org');
    assert.match(mail.text, /installed/);
    const links = Object.fromEntries(
      [...mail.text.matchAll(/^([A-Z][\w ()]+):\s+(http\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    assert.equal(links.Upload, `${f.daemon.httpUrl}/uploads/${u.id}`);
    assert.match(
      links.Changes ?? '',
      new RegExp(`^${f.daemon.httpUrl}/uploads/${u.id}/hello-all_.*_source\\.changes$`),
    );
    const buildLog = Object.entries(links).find(([k]) => k.startsWith('Build log amd64'));
    assert.ok(buildLog, mail.text);
    for (const url of [links.Changes!, buildLog[1]!]) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
    }
    assert.match(
      await (await fetch(links.Changes!)).text(),
      new RegExp(`Version: ${version.replace(/[+.~]/g, '\\$&')}`),
    );
    const json = mail.attachments.find((a) => a.contentType === 'application/json');
    assert.ok(json, 'the event is attached');
    const event = JSON.parse(json.content) as { type: string; payload: { upload: number } };
    assert.equal(event.type, 'INSTALLED');
    assert.equal(String(event.payload.upload), u.id);
    // One message per event, and none for events nobody subscribed to (PACKAGING, BUILD_*).
    assert.equal((await smtp.messages()).filter((m) => m.subject === subject).length, 1);
    assert.equal((await smtp.messages()).length, 1);
  });

  it('with the SMTP server down, an upload still ends at once; the mail goes out when it is back', async () => {
    await smtp.pause();
    const before = (await smtp.messages()).length;
    // Breaks the suite's version rule: REJECTED without a build.
    const version = '2.0';
    await f.upload('hello-all', version);
    const u = await f.settled('hello-all', version, 60_000);
    assert.equal(u.state, 'REJECTED');
    const took = Date.parse(u.finishedAt!) - Date.parse(u.receivedAt);
    assert.ok(took < 10_000, `the rejection took ${took} ms`);
    await eventually(
      async () => (/notification mail for event \d+ failed \(attempt 1 of 25\)/.test(f.daemon.logs) ? true : undefined),
      15_000,
    );
    assert.match(f.daemon.logs, /ECONNREFUSED/);

    await smtp.resume();
    const subject = `[debyard ${f.identity}] REJECTED hello-all 2.0 (${DIST})`;
    const mail = await eventually(async () => {
      await retryMailNow();
      await new Promise((r) => setTimeout(r, 1000));
      return (await smtp.messages()).find((m) => m.subject === subject);
    }, 30_000);
    assert.match(mail.text, /^Reason: version 2\.0 does not match the rule/m);
    assert.equal((await smtp.messages()).length, before + 1);
  });

  it('bad input: an invalid smtpUrl, a second subscription, another user’s, anonymous; the password never shows', async () => {
    const bad = await f.daemon.cli(['config', 'daemon', 'set', 'daemon', 'smtpUrl=http://mail.example.org']);
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.stderr, /smtpUrl: the scheme must be smtp or smtps, not "http"/);
    const gql = await f.daemon.gql(
      'mutation { configSet(kind: DAEMON, key: "daemon", values: {smtpUrl: "smtp://mail.example.org/inbox"}) { created } }',
      {},
      f.token,
    );
    assert.equal(gql.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal((gql.errors?.[0]?.extensions as { field?: string }).field, 'smtpUrl');

    const again = await asAlice('mutation { subscribe(source: "hello-all") { id } }');
    assert.equal(again.errors?.[0]?.extensions?.code, 'ALREADY_EXISTS');
    assert.match(again.errors![0]!.message, /alice is already subscribed to hello-all in every distribution/);

    const { subscribe: admins } = await f.gql<{ subscribe: { id: string } }>(
      'mutation { subscribe(distribution: "bookworm-test-unstable") { id username source distribution } }',
    );
    const theirs = await asAlice('mutation($id: ID!) { unsubscribe(id: $id) { id } }', { id: admins.id });
    assert.equal(theirs.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const peek = await asAlice('{ subscriptions(username: "admin") { id } }');
    assert.equal(peek.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const anonymous = await f.daemon.gql('{ subscriptions { id } }');
    assert.equal(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const anonymousSubscribe = await f.daemon.gql('mutation { subscribe(source: "hello-all") { id } }');
    assert.equal(anonymousSubscribe.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const badSource = await asAlice('mutation { subscribe(source: "Hello World") { id } }');
    assert.equal((badSource.errors?.[0]?.extensions as { field?: string }).field, 'source');

    // The CLI lists and ends alice's own; an administrator ends anybody's.
    const list = await f.daemon.cli(['subscriptions'], { token: alice });
    assert.match(list.stdout, /alice +hello-all +\(all\)/);
    const mine = (await asAlice<{ subscriptions: { id: string }[] }>('{ subscriptions { id } }')).data!.subscriptions;
    const end = await f.daemon.cli(['unsubscribe', mine[0]!.id], { token: alice });
    assert.equal(end.exitCode, 0, end.stderr);
    assert.match((await f.daemon.cli(['subscriptions'], { token: alice })).stdout, /no subscriptions/);
    assert.equal((await f.daemon.cli(['unsubscribe', admins.id])).exitCode, 0);
    const audit = await f.gql<{ events: { type: string; payload: { username: string } }[] }>(
      '{ events(limit: 50) { type payload } }',
    );
    assert.deepEqual(
      audit.events.filter((e) => e.type === 'SUBSCRIBED' || e.type === 'UNSUBSCRIBED').map((e) => e.type),
      ['UNSUBSCRIBED', 'UNSUBSCRIBED', 'SUBSCRIBED', 'SUBSCRIBED'],
    );

    // The password is kept but never shown, and "***" sent back keeps it.
    const secret = `smtp://mailer:s3cret@127.0.0.1:${smtp.port}`;
    assert.equal((await f.daemon.cli(['config', 'daemon', 'set', 'daemon', `smtpUrl=${secret}`])).exitCode, 0);
    const shown = await f.daemon.cli(['config', 'daemon', 'show', 'daemon']);
    assert.match(shown.stdout, /smtp:\/\/mailer:\*\*\*@127\.0\.0\.1/);
    const everything = JSON.stringify(
      await f.gql(
        '{ configObject(kind: DAEMON, key: "daemon") { fields { name value } } events(limit: 20) { summary payload } }',
      ),
    );
    assert.doesNotMatch(everything + shown.stdout + f.daemon.logs, /s3cret/);
    const kept = await f.daemon.cli([
      'config',
      'daemon',
      'set',
      'daemon',
      `smtpUrl=smtp://mailer:***@127.0.0.1:${smtp.port}`,
    ]);
    assert.equal(kept.exitCode, 0, kept.stderr);
    assert.match(kept.stdout + kept.stderr, /no change|unchanged|nothing/i);
    // Editing mail settings needs no new check: the daemon stays active.
    const daemon = await f.gql<{ configObject: { status: string; checkState: string } }>(
      '{ configObject(kind: DAEMON, key: "daemon") { status checkState } }',
    );
    assert.deepEqual(daemon.configObject, { status: 'ACTIVE', checkState: 'CHECKED' });
  });
  it('console: the profile page, reached from the user name, lists, adds and removes subscriptions', async () => {
    await setPassword(f.daemon, 'alice', ADMIN_PASSWORD);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${f.daemon.httpUrl}/sign-in`);
      await signIn(page, 'alice', ADMIN_PASSWORD);
      await page.locator(tid('user-name')).click();
      await page.waitForURL(/\/profile$/);
      await page.locator(tid('subscriptions-empty')).waitFor();
      await page.locator(tid('subscription-source-input')).fill('hello-c');
      await page.locator(tid('subscription-add')).click();
      const row = page.locator(tid('subscription-row'));
      await row.filter({ hasText: 'hello-c' }).waitFor();
      assert.equal(await row.locator(tid('subscription-distribution')).textContent(), 'all');
      // The same again: the daemon's message, and still one row.
      await page.locator(tid('subscription-source-input')).fill('hello-c');
      await page.locator(tid('subscription-add')).click();
      await page.locator(tid('subscription-error')).filter({ hasText: 'already subscribed' }).waitFor();
      assert.equal(await row.count(), 1);
      const cli = await f.daemon.cli(['subscriptions'], { token: alice });
      assert.match(cli.stdout, /alice +hello-c +\(all\)/);
      await row.locator(tid('subscription-remove')).click();
      await page.locator(tid('subscriptions-empty')).waitFor();
    } finally {
      await browser.close();
    }
  });

  it('mails a sign-up to the daemon’s notify addresses and to staff subscribers, not to other subscribers', async () => {
    const run = async (args: string[], token?: string) => {
      const r = await f.daemon.cli(args, token ? { token } : {});
      assert.equal(r.exitCode, 0, `debyard ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r.stdout.trim();
    };
    await run(['config', 'daemon', 'set', 'daemon', 'notifyAddresses=archive-staff@example.org']);
    // sam (staff) and uma (an uploader) both subscribe to everything.
    for (const [name, role] of [
      ['sam', 'staff'],
      ['uma', 'uploader'],
    ] as const) {
      await run(['user', 'add', name, '--role', role]);
      await run(['user', 'email', name, `${name}@example.org`]);
      await run(['subscribe'], await run(['token', 'create', '--for', name, '--name', 'mail']));
    }
    const signUp = await f.daemon.gql<{ signUp: { state: string } }>(
      'mutation { signUp(username: "newcomer", password: "a long enough passphrase", email: "newcomer@example.org") { state } }',
    );
    assert.equal(signUp.errors, undefined, JSON.stringify(signUp.errors));
    assert.equal(signUp.data?.signUp.state, 'PENDING');
    const mail = await smtp.waitFor((m) => m.subject.includes('USER_SIGNED_UP'), 15_000);
    assert.match(mail.subject, /newcomer signed up and waits for approval/);
    assert.match(mail.to, /archive-staff@example\.org/);
    assert.match(mail.to, /sam@example\.org/);
    assert.doesNotMatch(mail.to, /uma@example\.org|alice@example\.org|newcomer@example\.org/);
    assert.match(mail.text, new RegExp(`^Administration: ${f.daemon.httpUrl}/admin$`, 'm'));
  });
});
