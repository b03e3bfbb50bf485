import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { MAIN, TestDaemon, newDataDir } from '../support/daemon.js';
import { freePort } from '../support/postgres.js';
import { ftpUpload, waitForEvent } from '../support/scenarios.js';

async function serve(args: string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [MAIN, 'serve', ...args], {
    reject: false,
    timeout: 30_000,
    env: { DATABASE_URL: '', ...env },
  });
  return { exitCode: r.exitCode, stderr: String(r.stderr) };
}

/** Speaks raw FTP: logs in anonymously, sends `command`, returns the server's reply line to it. */
async function ftpCommand(port: number, command: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const replies: string[] = [];
  const waitReply = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const lines = buffer.split('\r\n');
        buffer = lines.pop()!;
        replies.push(...lines.filter((l) => /^\d{3} /.test(l)));
        if (replies.length) resolve(replies.shift()!);
        else socket.once('data', (d) => ((buffer += d.toString()), check()));
      };
      socket.once('error', reject);
      check();
    });
  try {
    await waitReply(); // greeting
    socket.write('USER anonymous\r\n');
    await waitReply();
    socket.write('PASS x@y\r\n');
    await waitReply();
    socket.write(`${command}\r\n`);
    return await waitReply();
  } finally {
    socket.destroy();
  }
}

describe('bad input never breaks the daemon', () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await TestDaemon.start({ args: ['--ftp-max-file-size', '4K'] });
  });
  after(() => daemon?.dispose());

  it('refuses a second daemon on the same data directory, naming the running one', async () => {
    const [http, ftp] = [await freePort(), await freePort()];
    const r = await serve(['--data-dir', daemon.dataDir, '--http', `127.0.0.1:${http}`, '--ftp', `127.0.0.1:${ftp}`]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /another debyard \(pid \d+\) is already running with data directory/);
    const status = await daemon.cli(['status', '--json']);
    assert.equal(status.exitCode, 0, 'the first one is unharmed');
  });

  it('rejects invalid settings with the setting and the fix (exit 2)', async () => {
    const dataDir = await newDataDir();
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['--http', 'localhost'],
        {},
        /--http \(--http \/ DEBYARD_HTTP\): "localhost" is not HOST:PORT, e\.g\. 0\.0\.0\.0:8066/,
      ],
      [['--data-dir', 'relative/dir'], {}, /--data-dir .*not an absolute path/],
      [
        [],
        { DEBYARD_FTP: '0.0.0.0:99999' },
        /^debyard: error: invalid configuration: DEBYARD_FTP .*out of range.* \(INVALID_CONFIGURATION\)$/m,
      ],
      [[], { DEBYARD_IDENTITY: 'Not Valid' }, /not a valid identity/],
      [[], { DATABASE_URL: 'mysql://u@h/db' }, /only PostgreSQL is supported/],
    ];
    try {
      for (const [args, env, message] of cases) {
        const r = await serve(['--data-dir', dataDir, ...args], env);
        assert.equal(r.exitCode, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    } finally {
      await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
    }
  });

  it('says which database it cannot reach (exit 1)', async () => {
    const dataDir = await newDataDir();
    const [http, ftp] = [await freePort(), await freePort()];
    const r = await serve(['--data-dir', dataDir, '--http', `127.0.0.1:${http}`, '--ftp', `127.0.0.1:${ftp}`], {
      DATABASE_URL: 'postgres://user:secret@127.0.0.1:1/debyard',
    }).finally(() => fs.rm(path.dirname(dataDir), { recursive: true, force: true }));
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /cannot use the database at DATABASE_URL=postgres:\/\/user:\*\*\*@127\.0\.0\.1:1\/debyard/);
    assert.doesNotMatch(r.stderr, /secret/);
  });

  it('refuses FTP names that leave incoming, and FTP commands other than upload', async () => {
    for (const name of ['../escape', '/etc/passwd', 'a/b', '..\\x', '.hidden'])
      assert.match(await ftpCommand(daemon.ftpPort, `STOR ${name}`), /^553 /, name);
    for (const command of ['RETR x', 'DELE x', 'RNFR x', 'PORT 127,0,0,1,1,1', 'SITE CHMOD 777 x', 'MKD d'])
      assert.match(await ftpCommand(daemon.ftpPort, command), /^5\d\d /, command);
  });

  it('cuts off an over-size upload, keeps nothing and reports why', async () => {
    const r = await ftpUpload(daemon, 'huge_1.0.tar.xz', Buffer.alloc(64 * 1024, 1));
    assert.notEqual(r.exitCode, 0);
    const event = await waitForEvent(daemon, (e) => e.payload.file === 'huge_1.0.tar.xz');
    assert.equal(event.payload.complete, false);
    assert.match(String(event.payload.reason), /larger than the limit of 4096 bytes/);
    assert.equal((await ftpUpload(daemon, 'small_1.0.dsc', 'ok')).exitCode, 0, 'the daemon carries on');
  });

  it('refuses to overwrite an uploaded file (a session has its own directory: within one session)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-twice-'));
    try {
      await fs.writeFile(path.join(dir, 'first'), 'first');
      await fs.writeFile(path.join(dir, 'second'), 'second');
      const url = `ftp://127.0.0.1:${daemon.ftpPort}/once_1.0.dsc`;
      // curl sends both over one connection, one FTP session.
      const r = await execa(
        'curl',
        ['-sS', '--max-time', '20', '-T', path.join(dir, 'first'), url, '-T', path.join(dir, 'second'), url],
        { reject: false },
      );
      assert.notEqual(r.exitCode, 0);
      assert.match(String(r.stderr), /553/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('gives CLI usage errors exit 2 and an unreachable daemon exit 3', async () => {
    const flag = await daemon.cli(['status', '--no-such-flag']);
    assert.equal(flag.exitCode, 2);
    assert.equal(flag.stderr, "debyard: error: unknown option '--no-such-flag' (USAGE)");
    assert.equal((await daemon.cli(['no-such-command'])).exitCode, 2);
    const r = await execa(process.execPath, [MAIN, '--url', 'http://127.0.0.1:1', 'status'], { reject: false });
    assert.equal(r.exitCode, 3);
    assert.match(
      String(r.stderr),
      /^debyard: error: cannot reach debyard at http:\/\/127\.0\.0\.1:1 .*\(UNREACHABLE\)$/,
    );
  });

  it('prints every refusal of the daemon as `debyard: error: <message> (<CODE>)`, or as JSON with --json', async () => {
    const unknown = await daemon.cli(['snapshot', 'create', 'bookworm-nosuch-stable', 'x']);
    assert.equal(unknown.exitCode, 1);
    assert.equal(unknown.stdout, '');
    assert.match(
      unknown.stderr,
      /^debyard: error: bookworm-nosuch-stable is not a published distribution.* \(DISTRIBUTION_UNKNOWN\)$/,
    );
    const json = await daemon.cli(['snapshot', 'create', 'bookworm-nosuch-stable', 'x', '--json']);
    assert.equal(json.exitCode, 1);
    assert.equal(json.stdout, '');
    const { error } = JSON.parse(json.stderr) as { error: { message: string; code: string; exitCode: number } };
    assert.equal(error.code, 'DISTRIBUTION_UNKNOWN');
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /^bookworm-nosuch-stable is not a published distribution/);

    const anonymous = await daemon.cli(['snapshot', 'create', 'bookworm-nosuch-stable', 'x'], { token: null });
    assert.equal(anonymous.exitCode, 4);
    assert.match(anonymous.stderr, /^debyard: error: .* \(UNAUTHENTICATED\)$/);
    const badToken = await daemon.cli(['status'], { token: 'not-a-token' });
    assert.equal(badToken.exitCode, 4);
    assert.match(badToken.stderr, /^debyard: error: .*refused the token from DEBYARD_TOKEN: .* \(INVALID_TOKEN\)$/);
  });

  it('rejects bad API input with BAD_USER_INPUT and a reason', async () => {
    const name = await daemon.cli(['user', 'add', 'Bad Name', '--role', 'staff']);
    assert.equal(name.exitCode, 1);
    assert.match(name.stderr, /not a valid user name/);
    const short = await daemon.cli(['user', 'add', 'dave', '--role', 'staff', '--password-stdin'], {
      input: 'short\n',
    });
    assert.match(short.stderr, /too short/);
    const r = await daemon.gql('{ events(limit: 100000) { id } }');
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const cursor = await daemon.gql('{ events(before: "1; drop table event") { id } }');
    assert.match(cursor.errors?.[0]?.message ?? '', /must be an event id/);
  });
});
