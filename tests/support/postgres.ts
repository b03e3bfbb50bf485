import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';

/** A PostgreSQL database for one test file, dropped (or thrown away with its cluster) at the end. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

let scratch: Promise<{ adminUrl: string; stop(): Promise<void> }> | undefined;

/**
 * With DATABASE_URL: a fresh database on that server. Without: a throw-away cluster of our own on a
 * random loopback port (run as the `debyard` user when we are root, since initdb refuses root), so the
 * suite also passes where no PostgreSQL is running.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL ?? (await (scratch ??= startScratchCluster())).adminUrl;
  const name = `debyard_test_${crypto.randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** Stops the throw-away cluster, if this process started one. */
export async function stopScratchCluster(): Promise<void> {
  if (scratch) await (await scratch).stop();
  scratch = undefined;
}

async function withClient<T>(url: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const SCRATCH_PREFIX = 'debyard-pg-';
/** Holds the pid of the test process that started the cluster. */
const OWNER_FILE = 'owner.pid';

async function startScratchCluster(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const bin = await postgresBin();
  await reapOrphanedClusters(bin);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), SCRATCH_PREFIX));
  await fs.writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  const port = await freePort();
  const asUser = process.getuid?.() === 0 ? await userIds('debyard') : undefined;
  if (asUser) await fs.chown(dir, asUser.uid, asUser.gid);
  const run = (cmd: string, args: string[]) =>
    execa(path.join(bin, cmd), args, {
      cwd: dir,
      extendEnv: false,
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      ...(asUser ? { uid: asUser.uid, gid: asUser.gid } : {}),
    });
  const data = path.join(dir, 'data');
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  await run('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off`,
    '-w',
    'start',
  ]);
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops and removes the scratch clusters of test processes that are gone: a file killed at its time
 * limit, or one that never reached its `after`, would otherwise leave a postmaster running for good.
 */
async function reapOrphanedClusters(bin: string): Promise<void> {
  const names = (await fs.readdir(os.tmpdir()).catch(() => [] as string[])).filter((n) => n.startsWith(SCRATCH_PREFIX));
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    const owner = Number((await fs.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    await execa(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop'], {
      reject: false,
      ...(process.getuid?.() === 0 ? await userIds('debyard') : {}),
    });
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function postgresBin(): Promise<string> {
  const versions = (await fs.readdir('/usr/lib/postgresql').catch(() => [] as string[])).sort(
    (a, b) => Number(b) - Number(a),
  );
  if (!versions[0]) throw new Error('PostgreSQL server binaries are missing: install the postgresql package');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await fs.readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`user ${name} is missing: run scripts/setup.sh test as root`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
