/**
 * A daemon ready for real uploads, shared by the pipeline suites: `setup` for bookworm/amd64 with
 * repository `test`, its build chroot, an activated uploader key allowed to upload there, and the dput
 * configuration `debyard dput-config` prints. Uploads go in with stock `dput` over FTP. The options
 * make the instances of a network: one without a chroot (repositories only) or without a repository
 * (a builder only), with its own database and identity.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEBIAN_KEYRING } from '@debyard/server/dist/archive/setup-data.js';
import { chrootDirPath, chrootsDir } from '@debyard/server/dist/chroot/chroot-ops.js';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { eventually, REPO, TestDaemon, type DaemonOptions } from './daemon.js';
import {
  generateUploaderKey,
  makeUpload,
  type MadeUpload,
  type MakeUploadOptions,
  type UploaderKey,
} from './uploads.js';

export interface UploadRow {
  id: string;
  state: string;
  source: string | null;
  version: string | null;
  rejectCode: string | null;
  reason: string | null;
  uploader: string | null;
  signedBy: string | null;
  receivedAt: string;
  finishedAt: string | null;
  builds: {
    id: string;
    architecture: string;
    result: string | null;
    sbuildSeconds: number | null;
    builder: string | null;
  }[];
}

export const UPLOAD_FIELDS =
  'id state source version rejectCode reason uploader signedBy receivedAt finishedAt builds { id architecture result sbuildSeconds builder }';
export const DIST = 'bookworm-test-unstable';
/** The Default layout's rule for unstable in repository test on bookworm (12): ~test12+[1-9]. */
export const V = (base: string, n = 1) => `${base}~test12+${n}`;
/** A version as a regular expression that matches it literally. */
export const literal = (version: string) => new RegExp(version.replace(/[+.~]/g, '\\$&'));

export interface PipelineOptions {
  /** How the daemon is started (database, `--identity`, …); kept for {@link PipelineFixture.restart}. */
  daemon?: DaemonOptions;
  /** Make the bookworm/amd64 chroot (default true); without it the instance builds nothing itself. */
  chroots?: boolean;
  /**
   * Set up repository `test` with the uploader key and the dput configuration (default true); false
   * makes a builder only: the instance key and the Debian source its chroot is made of.
   */
  repository?: boolean;
  /** The layout of repository `test` (default: setup's, Default); e.g. `Default (no rollbacks)`: 6 distributions, not 46. */
  layout?: string;
  /**
   * Keep setup's extra sources of distribution bookworm (bookworm-backports and bookworm-security from
   * deb.debian.org; default false). Without them a build's apt fetches only this instance's indices,
   * not the Debian network's, which made each test build about 10 s slower and its length vary with the
   * network; pipeline.test.ts keeps them, so builds with them stay tested.
   */
  extraSources?: boolean;
  /** An uploader key to use (several instances may share one; the caller disposes of it). */
  key?: UploaderKey;
}

const CHROOT = 'bookworm-amd64';
const BASE_SOURCE = 'Debian:bookworm';
const DEBIAN_ARCHIVE = 'http://deb.debian.org/debian/';

/** `debyard ARGS` against `daemon`, which must succeed; its stdout. */
async function cliOk(daemon: TestDaemon, args: string[]): Promise<string> {
  const r = await daemon.cli(args, { timeoutMs: 600_000 });
  assert.equal(r.exitCode, 0, `debyard ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * What an instance that only builds needs (mini-buildd's grover): its instance key, Debian's archive keys,
 * the archive and the bookworm source — no layout, distribution or repository. `cli` runs `debyard ARGS`.
 */
async function setupBuilderOnly(
  cli: (...args: string[]) => Promise<string>,
  work: string,
  identity: string,
): Promise<void> {
  await cli('config', 'daemon', 'create', 'daemon', `identity=${identity}`, `emailAddress=debyard@${identity}.example`);
  await cli('config', 'daemon', 'pca', 'daemon');
  const keys = await openpgp.readKeys({ binaryKeys: await fs.readFile(DEBIAN_KEYRING) });
  const fingerprints = await Promise.all(
    keys.map(async (k) => {
      const fingerprint = k.getFingerprint().toUpperCase();
      const file = path.join(work, `${fingerprint}.asc`);
      await fs.writeFile(file, k.armor());
      await cli('config', 'apt-key', 'create', fingerprint, `armored=@${file}`);
      return fingerprint;
    }),
  );
  await cli('config', 'archive', 'create', DEBIAN_ARCHIVE);
  const sourceFields = [`archives=${JSON.stringify([DEBIAN_ARCHIVE])}`, `aptKeys=${JSON.stringify(fingerprints)}`];
  await cli('config', 'source', 'create', BASE_SOURCE, ...sourceFields);
  await cli('config', 'source', 'pca', BASE_SOURCE); // its archive and keys first
}

/**
 * The test chroot cache, outside the clone: a chroot directory made from the mirror, which later test
 * files (and later runs) copy instead of running mmdebstrap again. The entry is keyed by the chroot
 * helper script (what mmdebstrap is asked for) and the day, so a changed helper or a day-old mirror
 * state makes a new one; older entries are deleted when a new one is stored.
 */
const CHROOT_CACHE = path.join(process.env.DEBYARD_TEST_CACHE ?? '/var/cache/debyard-tests', 'chroots');

async function chrootCacheEntry(): Promise<string> {
  const helper = await fs.readFile(path.join(REPO, 'scripts/debyard-chroot-helper'));
  const day = new Date().toISOString().slice(0, 10);
  const key = createHash('sha256').update(helper).update(day).digest('hex').slice(0, 16);
  return path.join(CHROOT_CACHE, `${CHROOT}-${key}`);
}

async function existing(dir: string): Promise<string | null> {
  return (await fs.stat(path.join(dir, 'usr/bin/dpkg')).catch(() => null)) ? dir : null;
}

/** Stores a made chroot as `entry`: copied under a temporary name and renamed, so no reader sees half of it. */
async function fillChrootCache(chroot: string, entry: string): Promise<void> {
  await fs.mkdir(CHROOT_CACHE, { recursive: true, mode: 0o755 });
  const tmp = `${entry}.tmp-${process.pid}`;
  try {
    await execa('cp', ['-a', '--reflink=auto', chroot, tmp]);
    await fs.rename(tmp, entry);
  } catch {
    // Another test file stored it first (rename onto a full directory fails), or the disk is full:
    // the cache is only a shortcut.
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  for (const name of await fs.readdir(CHROOT_CACHE))
    if (name.startsWith(`${CHROOT}-`) && !name.includes('.tmp-') && path.join(CHROOT_CACHE, name) !== entry)
      await fs.rm(path.join(CHROOT_CACHE, name), { recursive: true, force: true });
}

/**
 * Runs `make`, which creates `daemon`'s bookworm/amd64 SCHROOT chroot, with the chroot directory copied
 * in first from `seed` (another instance's chroot) or else from the cache: the create takes the directory
 * as it finds it, seconds instead of mmdebstrap's minute or two. A chroot made from the mirror fills
 * the cache.
 */
export async function withChrootCopy<T>(daemon: TestDaemon, make: () => Promise<T>, seed?: string): Promise<T> {
  const target = chrootDirPath(daemon.dataDir, CHROOT);
  const cached = seed ? null : await chrootCacheEntry();
  const from = seed ?? (await existing(cached!));
  if (from) {
    const dir = chrootsDir(daemon.dataDir);
    // The root helper wants the chroots directory to be the daemon user's, as the daemon makes it.
    const owner = await fs.stat(daemon.dataDir);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.chown(dir, owner.uid, owner.gid);
    await execa('cp', ['-a', '--reflink=auto', from, target]);
  }
  const made = await make();
  if (cached && !from) await fillChrootCache(target, cached);
  return made;
}

export class PipelineFixture {
  private readonly made: string[] = [];

  private hasChroot = false;

  private constructor(
    public daemon: TestDaemon,
    public token: string,
    readonly key: UploaderKey,
    readonly work: string,
    readonly dputCf: string,
    readonly identity: string,
    private readonly opts: { daemon: DaemonOptions; ownKey: boolean },
  ) {}

  /**
   * Starts and sets up the daemon (a real chroot: about half a minute with a warm cache). The chroot is
   * made by its own request after setup's, so that neither waits longer than the CLI's five minutes for
   * an answer on a busy machine.
   */
  static async start(name: string, opts: PipelineOptions = {}): Promise<PipelineFixture> {
    const daemon = await TestDaemon.start(opts.daemon);
    const token = await daemon.adminToken;
    const work = await fs.mkdtemp(path.join(os.tmpdir(), `debyard-${name}-`));
    await fs.chmod(work, 0o755);
    const key =
      opts.key ?? (await generateUploaderKey({ name: 'Pipeline Tester', email: 'pipeline@debyard.example.org' }));
    const cli = (...args: string[]) => cliOk(daemon, args);
    const identity = async () =>
      (await daemon.gql<{ status: { identity: string } }>('{ status { identity } }', {}, token)).data!.status.identity;
    const dputCf = path.join(work, 'dput.cf');
    let f: PipelineFixture | undefined;
    try {
      if (opts.repository ?? true) {
        const repository = opts.layout ? `test:${opts.layout}` : 'test';
        await cli('setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', repository, '--apply');
        const armored = path.join(work, 'uploader.asc');
        await fs.writeFile(armored, key.armored);
        const allowed = ['repositories=test', 'user=admin'];
        await cli('config', 'uploader', 'create', key.fingerprint, `armored=@${armored}`, ...allowed);
        await cli('config', 'uploader', 'pca', key.fingerprint);
        await fs.writeFile(dputCf, await cli('dput-config'));
        if (!opts.extraSources) {
          await cli('config', 'distribution', 'set', 'bookworm', 'extraSources=[]');
          await cli('config', 'repository', 'pca', 'test');
        }
      } else await setupBuilderOnly(cli, work, await identity());
      f = new PipelineFixture(daemon, token, key, work, dputCf, await identity(), {
        daemon: opts.daemon ?? {},
        ownKey: !opts.key,
      });
      if (opts.chroots ?? true) await f.makeChroot();
      return f;
    } catch (err) {
      const logs = daemon.logs.split('\n').slice(-40).join('\n');
      if (f) await f.dispose();
      else {
        await daemon.dispose();
        if (!opts.key) await key.dispose();
        await fs.rm(work, { recursive: true, force: true });
      }
      throw new Error(`${name}: ${(err as Error).message}\n--- the daemon's last log lines:\n${logs}`, { cause: err });
    }
  }

  /**
   * Makes the bookworm/amd64 chroot (SCHROOT backend). Its directory is copied in first, and the create
   * takes it as it finds it (seconds instead of mmdebstrap's minute or two), from `seed` (another
   * instance's chroot) or else from the test chroot cache; a chroot made from the mirror fills the cache.
   */
  async makeChroot(seed?: PipelineFixture): Promise<void> {
    this.hasChroot = true;
    await withChrootCopy(
      this.daemon,
      async () => {
        await cliOk(this.daemon, ['chroot', 'create', CHROOT, `source=${BASE_SOURCE}`, 'backend=SCHROOT']);
        await cliOk(this.daemon, ['chroot', 'pca', CHROOT]);
      },
      seed && chrootDirPath(seed.daemon.dataDir, CHROOT),
    );
  }

  async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.daemon.gql<T>(query, variables, this.token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  }

  async uploadsOf(source: string): Promise<UploadRow[]> {
    const { uploads } = await this.gql<{ uploads: { nodes: UploadRow[] } }>(
      `query($s: String) { uploads(source: $s) { nodes { ${UPLOAD_FIELDS} } } }`,
      { s: source },
    );
    return uploads.nodes;
  }

  /** Waits until the upload of `source` `version` is INSTALLED, FAILED or REJECTED. */
  settled(source: string, version: string, timeoutMs = 300_000): Promise<UploadRow> {
    return eventually(async () => {
      const u = (await this.uploadsOf(source)).find((n) => n.version === version);
      return u && ['INSTALLED', 'FAILED', 'REJECTED'].includes(u.state) ? u : undefined;
    }, timeoutMs);
  }

  /** Stock dput with the daemon's dput-config section, signed uploads by the fixture's key. */
  async dput(changes: string): Promise<void> {
    const r = await execa('dput', ['-c', this.dputCf, `debyard-${this.identity}`, changes], {
      reject: false,
      all: true,
      env: { GNUPGHOME: this.key.gnupgHome, HOME: this.work },
    });
    assert.equal(r.exitCode, 0, String(r.all));
  }

  /** Makes a signed upload of a fixture package (to unstable unless told otherwise). */
  async make(name: string, version: string, extra: Omit<MakeUploadOptions, 'version'> = {}): Promise<MadeUpload> {
    const u = await makeUpload(name, { version, distribution: DIST, sign: this.key, ...extra });
    this.made.push(u.dir);
    return u;
  }

  /** Makes and dputs a signed upload of a fixture package. */
  async upload(name: string, version: string, extra: Omit<MakeUploadOptions, 'version'> = {}): Promise<MadeUpload> {
    const u = await this.make(name, version, extra);
    await this.dput(u.changes);
    return u;
  }

  /** kill -9 of the daemon, `between` (as root), then a start on the same data directory and ports. */
  async killAndRestart(between?: () => Promise<void>): Promise<void> {
    await this.daemon.stop('SIGKILL');
    await between?.();
    await this.restart();
  }

  /** Stops the daemon (SIGTERM); {@link restart} brings it back on the same URL. */
  async stop(): Promise<void> {
    await this.daemon.stop();
  }

  /** Starts the (stopped) daemon again on its data directory, ports, database and arguments. */
  async restart(): Promise<void> {
    const { dataDir, httpPort, ftpPort } = this.daemon;
    this.daemon = await TestDaemon.start({ ...this.opts.daemon, dataDir, httpPort, ftpPort });
    this.token = await this.daemon.adminToken;
  }

  /** `reprepro check` of repository test, as the daemon's user: the database agrees with the pool. */
  async repreproCheck(): Promise<void> {
    const check = await execa(
      'runuser',
      ['-u', 'debyard', '--', 'reprepro', '-b', path.join(this.daemon.dataDir, 'repositories/test'), 'check'],
      { reject: false, all: true, env: { GNUPGHOME: path.join(this.daemon.dataDir, 'keys/gnupg') } },
    );
    assert.equal(check.exitCode, 0, String(check.all));
  }

  async dispose(): Promise<void> {
    if (this.hasChroot && this.daemon.proc.exitCode === null)
      await this.daemon.cli(['config', 'chroot', 'remove', CHROOT], { timeoutMs: 120_000 });
    await this.daemon.dispose();
    if (this.opts.ownKey) await this.key.dispose();
    for (const dir of this.made) await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(this.work, { recursive: true, force: true });
  }
}
