import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FtpConnection } from 'ftp-srv';
import { pino } from 'pino';
import { Ftpd, type FtpdOptions, type FtpSession } from './ftpd.js';
import { IncomingFileSystem } from './incoming-fs.js';
import { ACKNOWLEDGE_GRACE_MS } from './session.js';

// Random high ports for the passive range; the control port is picked by the kernel (port 0).
const PASV_MIN = 40000 + Math.floor(Math.random() * 2000) * 10;
const PASV = { min: PASV_MIN, max: PASV_MIN + 9 };
const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });

let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'debyard-ftpd-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A started Ftpd on a fresh incoming directory, collecting session reports. */
class Harness {
  readonly sessions: FtpSession[] = [];
  private waiters: Array<() => void> = [];
  ftpd!: Ftpd;
  port = 0;

  constructor(readonly dir: string) {}

  static async start(overrides: Partial<FtpdOptions> = {}): Promise<Harness> {
    const base = await mkdtemp(path.join(root, 't-'));
    const dir = path.join(base, 'incoming');
    await mkdir(dir);
    const h = new Harness(dir);
    h.ftpd = new Ftpd({
      host: '127.0.0.1',
      port: 0,
      incomingDir: dir,
      passivePorts: PASV,
      maxFileSize: 1024 * 1024,
      idleTimeoutMs: 5000,
      logger: quiet,
      onSessionEnd: async (session) => {
        h.sessions.push(session);
        for (const w of h.waiters.splice(0)) w();
      },
      ...overrides,
    });
    await h.ftpd.start();
    h.port = Number(new URL(h.ftpd.url).port);
    return h;
  }

  private seen = 0;

  /** The n-th session report (1-based; default: the one after the last asked for), waiting up to 5 s. */
  async session(n = this.seen + 1): Promise<FtpSession> {
    this.seen = Math.max(this.seen, n);
    const deadline = Date.now() + 5000;
    while (this.sessions.length < n) {
      if (Date.now() > deadline) throw new Error(`no report for session ${n}`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(100)]);
    }
    return this.sessions[n - 1]!;
  }

  async files(): Promise<string[]> {
    return (await readdir(this.dir)).sort();
  }

  get url(): string {
    return this.ftpd.url;
  }

  async stop(): Promise<void> {
    await this.ftpd.stop();
  }
}

interface Reply {
  code: number;
  text: string;
}

/** A raw FTP control connection, for what real clients will not send. */
class RawFtp {
  private buffer = '';
  private replies: Reply[] = [];
  private waiting: Array<(r: Reply) => void> = [];
  private partial: string[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => this.onData(data));
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(port: number): Promise<{ ftp: RawFtp; greeting: Reply }> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const ftp = new RawFtp(socket);
    return { ftp, greeting: await ftp.reply() };
  }

  static async login(port: number): Promise<RawFtp> {
    const { ftp, greeting } = await RawFtp.connect(port);
    assert.equal(greeting.code, 220);
    assert.equal((await ftp.send('USER anonymous')).code, 230);
    return ftp;
  }

  private onData(data: string): void {
    this.buffer += data;
    let i: number;
    while ((i = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.partial.push(line);
      const m = /^(\d{3})([ -])/.exec(line);
      // A reply ends with "ddd text"; "ddd-" and raw lines continue it.
      if (m && m[2] === ' ') {
        const reply = { code: Number(m[1]), text: this.partial.join('\n') };
        this.partial = [];
        const w = this.waiting.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
    }
  }

  reply(timeoutMs = 5000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no FTP reply')), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  send(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`, 'latin1');
    return this.reply();
  }

  /** EPSV and connect the data connection (ftp-srv keeps a 30 s timer for a passive port nobody uses). */
  async passive(): Promise<net.Socket> {
    const r = await this.send('EPSV');
    assert.equal(r.code, 229, r.text);
    const port = Number(/\(\|\|\|(\d+)\|\)/.exec(r.text)![1]);
    const data = net.connect(port, '127.0.0.1');
    data.on('error', () => undefined);
    await once(data, 'connect');
    return data;
  }

  /** STOR `name` with `content`, returning the preliminary and final replies. */
  async stor(name: string, content: Buffer | string): Promise<Reply[]> {
    const data = await this.passive();
    const first = await this.send(`STOR ${name}`);
    if (first.code !== 150) {
      data.destroy();
      return [first];
    }
    data.end(content);
    return [first, await this.reply()];
  }

  async quit(): Promise<void> {
    await this.send('QUIT').catch(() => undefined);
    await this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function curl(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', ...args], (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

const hasLftp = spawnSync('lftp', ['--version'], { stdio: 'ignore' }).status === 0;
const hasPython = spawnSync('python3', ['-c', 'import ftplib'], { stdio: 'ignore' }).status === 0;

describe('Ftpd', () => {
  test('a curl upload is reported complete, mode 0440, with its content', async () => {
    const h = await Harness.start();
    try {
      const src = path.join(root, 'hello_1.0.dsc');
      await writeFile(src, 'hello world\n');
      const r = await curl(['-T', src, `${h.url}/`]);
      assert.equal(r.code, 0, r.stderr);
      const s = await h.session();
      assert.equal(s.remoteAddress, '127.0.0.1');
      assert.deepEqual(s.files, [{ name: 'hello_1.0.dsc', size: 12, complete: true }]);
      const st = await stat(path.join(h.dir, 'hello_1.0.dsc'));
      assert.equal(st.mode & 0o777, 0o440);
      assert.equal(await readFile(path.join(h.dir, 'hello_1.0.dsc'), 'utf8'), 'hello world\n');
    } finally {
      await h.stop();
    }
  });

  test('two files in one session (raw), and curl with PASV on a wildcard listener', async () => {
    const h = await Harness.start({ host: '0.0.0.0' });
    try {
      const ftp = await RawFtp.login(h.port);
      assert.deepEqual(
        (await ftp.stor('a_1.0.tar.xz', Buffer.alloc(200_000, 1))).map((r) => r.code),
        [150, 226],
      );
      assert.deepEqual(
        (await ftp.stor('/a_1.0_source.changes', 'changes')).map((r) => r.code),
        [150, 226],
      );
      await ftp.quit();
      const s = await h.session();
      assert.deepEqual(s.files, [
        { name: 'a_1.0.tar.xz', size: 200_000, complete: true },
        { name: 'a_1.0_source.changes', size: 7, complete: true },
      ]);

      // PASV must name the address the client reached, not 0.0.0.0.
      const raw = await RawFtp.login(h.port);
      const pasv = await raw.send('PASV');
      assert.match(pasv.text, /^227 .*\(127,0,0,1,\d+,\d+\)/);
      const [, p1, p2] = /\(127,0,0,1,(\d+),(\d+)\)/.exec(pasv.text)!;
      const data = net.connect(Number(p1) * 256 + Number(p2), '127.0.0.1');
      await once(data, 'connect');
      data.destroy();
      await raw.quit();

      const src = path.join(root, 'pasv.txt');
      await writeFile(src, 'pasv');
      const r = await curl(['--disable-epsv', '-T', src, `ftp://127.0.0.1:${h.port}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((await h.session(2)).files, [{ name: 'pasv.txt', size: 4, complete: true }]);
    } finally {
      await h.stop();
    }
  });

  test('unsafe names are refused with 553 and nothing is written', async () => {
    const h = await Harness.start();
    try {
      const ftp = await RawFtp.login(h.port);
      const names = [
        '../x',
        '/etc/x',
        '..\\x',
        'a\\b',
        'a/b',
        'a\nb',
        'a\rb',
        'a\0b',
        '.hidden',
        'x'.repeat(256),
        '//x',
      ];
      for (const name of names) {
        const data = await ftp.passive();
        const r = await ftp.send(`STOR ${name}`);
        data.destroy();
        assert.equal(r.code, 553, `${JSON.stringify(name)}: ${r.text}`);
      }
      const r = await ftp.send('STOR');
      assert.equal(r.code, 553);
      assert.match(r.text, /needs a file name/);
      assert.match((await ftp.send('NOOP')).text, /^200/);
      await ftp.quit();
      assert.deepEqual(await h.files(), []);
      assert.deepEqual(await readdir(path.dirname(h.dir)), ['incoming']);
      assert.equal(await exists('/etc/x'), false);
      assert.equal(h.sessions.length, 0, 'a session that stored nothing is not reported');
    } finally {
      await h.stop();
    }
  });

  test('an existing file is never overwritten; a planted symlink is not followed', async () => {
    const h = await Harness.start();
    try {
      const src = path.join(root, 'same.dsc');
      await writeFile(src, 'first');
      assert.equal((await curl(['-T', src, `${h.url}/`])).code, 0);
      await h.session(1);
      await writeFile(src, 'second, longer');
      const again = await curl(['-T', src, `${h.url}/`]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /553/);
      assert.equal(await readFile(path.join(h.dir, 'same.dsc'), 'utf8'), 'first');

      const outside = path.join(path.dirname(h.dir), 'target');
      await writeFile(outside, 'untouched');
      await symlink(outside, path.join(h.dir, 'evil.dsc'));
      await symlink(path.join(path.dirname(h.dir), 'nowhere'), path.join(h.dir, 'dangling.dsc'));
      const ftp = await RawFtp.login(h.port);
      for (const name of ['evil.dsc', 'dangling.dsc']) {
        const [r] = await ftp.stor(name, 'payload');
        assert.equal(r!.code, 553, r!.text);
        assert.match(r!.text, /already exists/);
      }
      await ftp.quit();
      assert.equal(await readFile(outside, 'utf8'), 'untouched');
      assert.equal(await exists(path.join(path.dirname(h.dir), 'nowhere')), false);
    } finally {
      await h.stop();
    }
  });

  test('the exclusive no-follow open refuses a symlink even past the 553 pre-check', async () => {
    const base = await mkdtemp(path.join(root, 'fs-'));
    const outside = path.join(base, 'target');
    await writeFile(outside, 'untouched');
    await symlink(outside, path.join(base, 'link.dsc'));
    const fs = new IncomingFileSystem({} as FtpConnection, {
      dir: base,
      maxFileSize: 10,
      onOpen: () => undefined,
      onData: () => undefined,
    });
    await assert.rejects(fs.write('link.dsc'), /already exists/);
    await assert.rejects(fs.write('../x'), /directory separator/);
    await assert.rejects(fs.write('ok.dsc', { append: true }), /appending/);
    await assert.rejects(fs.read(), /downloads/);
    await assert.rejects(fs.chdir('/etc'), /no directories/);
    assert.equal(await readFile(outside, 'utf8'), 'untouched');
  });

  test('an oversized file is stopped with a clear error and removed', async () => {
    const h = await Harness.start({ maxFileSize: 100_000 });
    try {
      const src = path.join(root, 'big.tar.xz');
      await writeFile(src, Buffer.alloc(1_000_000, 7));
      const r = await curl(['-T', src, `${h.url}/`]);
      assert.notEqual(r.code, 0);
      const s = await h.session();
      assert.equal(s.files.length, 1);
      const [f] = s.files;
      assert.equal(f!.complete, false);
      assert.match(f!.reason!, /larger than the limit of 100000 bytes/);
      assert.deepEqual(await h.files(), []);

      // Exactly at the cap is fine.
      const ftp = await RawFtp.login(h.port);
      assert.deepEqual(
        (await ftp.stor('cap.bin', Buffer.alloc(100_000))).map((x) => x.code),
        [150, 226],
      );
      const over = await ftp.stor('over.bin', Buffer.alloc(100_001));
      assert.equal(over[1]!.code, 550);
      assert.match(over[1]!.text, /larger than the limit/);
      await ftp.quit();
      assert.deepEqual(
        (await h.session(2)).files.map((x) => [x.name, x.complete]),
        [
          ['cap.bin', true],
          ['over.bin', false],
        ],
      );
      assert.deepEqual(await h.files(), ['cap.bin']);
    } finally {
      await h.stop();
    }
  });

  test('only the upload commands are allowed', async () => {
    const h = await Harness.start();
    try {
      const src = path.join(root, 'active.txt');
      await writeFile(src, 'x');
      const active = await curl(['--ftp-port', '-', '-T', src, `${h.url}/`]);
      assert.notEqual(active.code, 0, 'active mode must fail');

      const { ftp } = await RawFtp.connect(h.port);
      assert.equal((await ftp.send('STOR x')).code, 530, 'STOR before login');
      assert.equal((await ftp.send('USER root')).code, 331);
      const denied = await ftp.send('PASS secret');
      assert.equal(denied.code, 530);
      assert.match(denied.text, /anonymous/);
      ftp.destroy();

      const raw = await RawFtp.login(h.port);
      const feat = await raw.send('FEAT');
      assert.equal(feat.code, 211);
      assert.doesNotMatch(feat.text, /AUTH|SIZE|MDTM|EPRT/);
      for (const ok of ['SYST', 'PWD', 'TYPE I', 'MODE S', 'STRU F', 'NOOP', 'OPTS UTF8 ON', 'ALLO 10'])
        assert.ok((await raw.send(ok)).code < 300, ok);
      assert.equal((await raw.send('CWD /')).code, 250);
      assert.equal((await raw.send('CWD /incoming')).code, 250);
      assert.match((await raw.send('PWD')).text, /"\/incoming"/);
      assert.equal((await raw.send('CWD ..')).code, 250);
      assert.equal((await raw.send('CWD /etc')).code, 550);
      assert.equal((await raw.send('CWD ../..')).code, 250, 'clamped to / by the virtual tree');
      assert.match((await raw.send('PWD')).text, /"\/"/);
      const refused = [
        'RETR x',
        'DELE x',
        'RNFR x',
        'RNTO y',
        'PORT 127,0,0,1,4,1',
        'EPRT |1|127.0.0.1|1025|',
        'APPE x',
        'REST 0',
        'STOU',
        'MKD d',
        'RMD d',
        'CDUP',
        'SITE CHMOD 777 x',
        'LIST',
        'NLST',
        'SIZE x',
        'MDTM x',
        'STAT',
        'HELP',
        'AUTH TLS',
        'XMKD d',
      ];
      for (const cmd of refused) {
        const r = await raw.send(cmd);
        assert.equal(r.code, 502, `${cmd}: ${r.text}`);
      }
      await raw.quit();
      assert.deepEqual(await h.files(), []);
    } finally {
      await h.stop();
    }
  });

  test('an upload killed mid-transfer is reported incomplete and removed', async () => {
    const h = await Harness.start();
    try {
      const src = path.join(root, 'slow.tar.xz');
      await writeFile(src, Buffer.alloc(500_000, 3));
      const child = spawn('curl', ['-sS', '--limit-rate', '100k', '-T', src, `${h.url}/`], { stdio: 'ignore' });
      const deadline = Date.now() + 5000;
      while (!(await exists(path.join(h.dir, 'slow.tar.xz'))) && Date.now() < deadline) await sleep(20);
      await sleep(300);
      child.kill('SIGKILL');
      const s = await h.session();
      assert.equal(s.files.length, 1);
      assert.equal(s.files[0]!.complete, false);
      assert.ok(s.files[0]!.size < 500_000);
      assert.ok(s.files[0]!.reason);
      assert.deepEqual(await h.files(), []);

      // Both races of a killed client, forced: data EOF then control gone, and control gone mid-data.
      const eof = await RawFtp.login(h.port);
      const data = await eof.passive();
      assert.equal((await eof.send('STOR eof.bin')).code, 150);
      data.write(Buffer.alloc(10_000));
      await sleep(100);
      data.end();
      eof.destroy();
      const s2 = await h.session(2);
      assert.deepEqual(
        s2.files.map((f) => [f.name, f.complete]),
        [['eof.bin', false]],
      );
      assert.match(s2.files[0]!.reason!, /truncated|during the transfer/);

      // A client that stays connected after the 226 but then drops without QUIT: kept after the grace time.
      const late = await RawFtp.login(h.port);
      assert.equal((await late.stor('late.bin', 'late'))[1]!.code, 226);
      await sleep(ACKNOWLEDGE_GRACE_MS + 100);
      late.destroy();
      assert.deepEqual((await h.session(3)).files, [{ name: 'late.bin', size: 4, complete: true }]);

      const mid = await RawFtp.login(h.port);
      const data2 = await mid.passive();
      assert.equal((await mid.send('STOR mid.bin')).code, 150);
      data2.write(Buffer.alloc(10_000));
      await sleep(100);
      mid.destroy();
      const s3 = await h.session(4);
      assert.deepEqual(s3.files, [
        { name: 'mid.bin', size: 10_000, complete: false, reason: 'the connection closed during the transfer' },
      ]);
      data2.destroy();
      assert.deepEqual(await h.files(), ['late.bin']);
    } finally {
      await h.stop();
    }
  });

  test('the idle timeout closes an idle session but not a slow upload', async () => {
    const h = await Harness.start({ idleTimeoutMs: 400 });
    try {
      const idle = await RawFtp.login(h.port);
      const t0 = Date.now();
      const r = await idle.reply(3000);
      assert.equal(r.code, 421);
      await idle.closed;
      assert.ok(Date.now() - t0 < 1500);

      const slow = await RawFtp.login(h.port);
      const data = await slow.passive();
      assert.equal((await slow.send('STOR slow.bin')).code, 150);
      for (let i = 0; i < 15; i++) {
        data.write(Buffer.alloc(1000, i));
        await sleep(100);
      }
      data.end();
      assert.equal((await slow.reply()).code, 226);
      await slow.quit();
      assert.deepEqual((await h.session()).files, [{ name: 'slow.bin', size: 15_000, complete: true }]);

      // A finished upload whose client then idles out is kept: the server closed the session.
      const idler = await RawFtp.login(h.port);
      assert.equal((await idler.stor('kept.bin', 'kept'))[1]!.code, 226);
      await idler.closed;
      assert.deepEqual((await h.session(2)).files, [{ name: 'kept.bin', size: 4, complete: true }]);
    } finally {
      await h.stop();
    }
  });

  test('stop cuts open sessions and reports them; start works again', async () => {
    const listeners = FTP_SIGNALS.map((s) => process.listenerCount(s));
    const h = await Harness.start();
    assert.deepEqual(
      FTP_SIGNALS.map((s) => process.listenerCount(s)),
      listeners,
      'ftp-srv must leave no SIGTERM/SIGINT/SIGQUIT handlers behind',
    );
    const ftp = await RawFtp.login(h.port);
    const data = await ftp.passive();
    assert.equal((await ftp.send('STOR cut.bin')).code, 150);
    data.write(Buffer.alloc(5000));
    await sleep(100);
    await h.stop();
    // stop() resolves only after the session was reported.
    assert.deepEqual(h.sessions[0]!.files, [
      { name: 'cut.bin', size: 5000, complete: false, reason: 'the connection closed during the transfer' },
    ]);
    await ftp.closed;
    data.destroy();
    await assert.rejects(RawFtp.connect(h.port), /ECONNREFUSED/);
    await h.stop(); // a second stop is a no-op

    await h.ftpd.start();
    const src = path.join(root, 'again.txt');
    await writeFile(src, 'again');
    const r = await curl(['-T', src, `${h.ftpd.url}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await h.session(2)).files, [{ name: 'again.txt', size: 5, complete: true }]);
    await assert.rejects(h.ftpd.start(), /already running/);
    await h.ftpd.stop();
    assert.deepEqual(
      FTP_SIGNALS.map((s) => process.listenerCount(s)),
      listeners,
    );
  });

  test('connections per address are limited', async () => {
    const h = await Harness.start({ maxSessionsPerIp: 2 });
    try {
      const a = await RawFtp.login(h.port);
      const b = await RawFtp.login(h.port);
      const { ftp: c, greeting } = await RawFtp.connect(h.port);
      assert.equal(greeting.code, 421);
      assert.match(greeting.text, /Too many connections/);
      await c.closed;
      await a.quit();
      await b.quit();
      const d = await RawFtp.login(h.port);
      await d.quit();
    } finally {
      await h.stop();
    }
  });

  test(
    'lftp uploads (it tries SITE UTIME afterwards, which is refused harmlessly)',
    { skip: !hasLftp && 'lftp is not installed' },
    async () => {
      const h = await Harness.start();
      try {
        const src = path.join(root, 'lftp_1.0.dsc');
        await writeFile(src, 'lftp');
        await new Promise<void>((resolve, reject) =>
          execFile(
            'lftp',
            ['-e', `set net:max-retries 1; cd /incoming; put ${src}; bye`, `ftp://127.0.0.1:${h.port}`],
            { timeout: 10_000 },
            (err, _stdout, stderr) => (err ? reject(new Error(stderr)) : resolve()),
          ),
        );
        assert.deepEqual((await h.session()).files, [{ name: 'lftp_1.0.dsc', size: 4, complete: true }]);
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'a dput-style session (Python ftplib: CWD /incoming, PASV, STOR, QUIT)',
    { skip: !hasPython && 'python3 with ftplib is not installed' },
    async () => {
      const h = await Harness.start();
      try {
        const dsc = path.join(root, 'pkg_1.0.dsc');
        const changes = path.join(root, 'pkg_1.0_source.changes');
        await writeFile(dsc, 'dsc');
        await writeFile(changes, 'changes');
        // The statements of dput 1.1.3's dput/methods/ftp.py upload().
        const script = `
import ftplib, os, sys
ftp = ftplib.FTP()
ftp.connect('127.0.0.1', ${h.port})
ftp.login('anonymous', 'dput@packages.debian.org')
ftp.set_pasv(True)
ftp.cwd('/incoming')
for p in sys.argv[1:]:
    with open(p, 'rb') as f:
        ftp.storbinary('STOR ' + os.path.basename(p), f, 1024)
try:
    with open(sys.argv[1], 'rb') as f:
        ftp.storbinary('STOR ' + os.path.basename(sys.argv[1]), f, 1024)
except ftplib.error_perm as e:
    print(str(e)[:3])
ftp.quit()
`;
        const out = await new Promise<string>((resolve, reject) =>
          execFile('python3', ['-c', script, dsc, changes], (err, stdout, stderr) =>
            err ? reject(new Error(stderr)) : resolve(stdout),
          ),
        );
        assert.equal(out.trim(), '553', 'dput reads 553 as "leaving existing file on the server"');
        assert.deepEqual((await h.session()).files, [
          { name: 'pkg_1.0.dsc', size: 3, complete: true },
          { name: 'pkg_1.0_source.changes', size: 7, complete: true },
        ]);
      } finally {
        await h.stop();
      }
    },
  );
});

const FTP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
