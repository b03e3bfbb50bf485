import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import type { Source } from '../archive/source.entity.js';
import type { ChrootRef } from '../build/build-spec.js';
import { DEFAULT_DATA_DIR } from '../config/config.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import { LifecycleAction, type LifecycleService } from '../lifecycle/lifecycle.service.js';
import type { Logger } from '../log.js';
import { ChrootHelper, schrootConfPath, sessionsOf } from './chroot-helper.js';
import { ChrootLog } from './chroot-log.js';
import { Chroot, ChrootBackend } from './chroot.entity.js';
import { mmdebstrapTarball } from './mmdebstrap.js';

/** A chroot key, `<codename>-<arch>`: also a file name in `<data>/chroots/`. */
export const CHROOT_KEY = /^[a-z0-9][a-z0-9.+~-]*$/;
/** Chroots are generic: only the main component; distributions add what they need per build. */
const COMPONENTS = ['main'];
/** An UNSHARE tarball made this recently is not rebuilt by a check (prepare is followed by a check). */
const FRESH_MS = 10 * 60_000;
const MIRROR_TIMEOUT_MS = 15_000;

export function chrootsDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'chroots');
}

function checkedKey(key: string): string {
  if (!CHROOT_KEY.test(key) || key.includes('..')) throw new Error(`"${key}" is not a chroot key, e.g. bookworm-amd64`);
  return key;
}

/** The log of the last create, update or remove of chroot `key` (served at /logs/chroots/<key>). */
export function chrootLogPath(dataDir: string, key: string): string {
  return path.join(chrootsDir(dataDir), `${checkedKey(key)}.log`);
}

/** The directory of a SCHROOT chroot (root-owned, made by the helper). */
export function chrootDirPath(dataDir: string, key: string): string {
  return path.join(chrootsDir(dataDir), checkedKey(key));
}

/** The tarball of an UNSHARE chroot (owned by the daemon user). */
export function chrootTarballPath(dataDir: string, key: string): string {
  return path.join(chrootsDir(dataDir), `${checkedKey(key)}.tar.zst`);
}

/**
 * What tells this instance's schroot chroots, sessions and temporary directories from other instances'
 * on the same machine: empty for the default data directory, else 8 hex digits of its path's SHA-256.
 */
export function instanceTag(dataDir: string): string {
  const dir = path.resolve(dataDir);
  return dir === DEFAULT_DATA_DIR ? '' : createHash('sha256').update(dir).digest('hex').slice(0, 8);
}

/** `debyard-` or `debyard-<tag>-`: the start of every schroot name of this instance. */
export function schrootPrefix(dataDir: string): string {
  const tag = instanceTag(dataDir);
  return tag ? `debyard-${tag}-` : 'debyard-';
}

/** `debyard-bookworm-amd64` (default data directory) or `debyard-1a2b3c4d-bookworm-amd64`. */
export function schrootName(dataDir: string, key: string): string {
  return `${schrootPrefix(dataDir)}${checkedKey(key)}`;
}

/**
 * sbuild's `$unshare_tmpdir_template` for this instance (tmpfs, §2.5): the instance tag in the name lets
 * `cleanupAfterCrash` remove this instance's leftovers without touching another instance's running builds.
 */
export function sbuildTmpdirTemplate(dataDir: string): string {
  const tag = instanceTag(dataDir) || 'default';
  return `/dev/shm/tmp.sbuild.debyard-${tag}.XXXXXXXXXX`;
}

/** Where a build finds its chroot: the schroot name or the absolute tarball path. */
export function chrootRef(chroot: Chroot, dataDir: string): ChrootRef {
  return chroot.backend === ChrootBackend.SCHROOT
    ? { backend: ChrootBackend.SCHROOT, name: schrootName(dataDir, chroot.key) }
    : {
        backend: ChrootBackend.UNSHARE,
        name: chrootTarballPath(dataDir, chroot.key),
        tmpdirTemplate: sbuildTmpdirTemplate(dataDir),
      };
}

/** A binary OpenPGP keyring (concatenated transferable public keys) of the source's apt keys. */
async function sourceKeyring(source: Source): Promise<Uint8Array> {
  const keys = (
    await Promise.all((await source.aptKeys.loadItems()).map((k) => openpgp.readKeys({ armoredKeys: k.armored })))
  ).flat();
  if (!keys.length) throw new Error(`source ${source.key} has no apt keys`);
  return Buffer.concat(keys.map((k) => k.write()));
}

/** Fails fast, naming the URL, when the mirror does not answer or lacks the codename. */
async function probeMirror(log: ChrootLog, mirror: string, codename: string): Promise<void> {
  const url = `${mirror}dists/${codename}/InRelease`;
  log.line(`probing ${url}`);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(MIRROR_TIMEOUT_MS), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Error(`the mirror ${mirror} is unreachable (${why} for ${url})`);
  }
  await res.body?.cancel();
  if (!res.ok) throw new Error(`the mirror ${mirror} answers HTTP ${res.status} for dists/${codename}/InRelease`);
}

interface OpContext {
  em: EntityManager;
  dataDir: string;
  logger: Logger;
}

/**
 * Runs one chroot operation: phase set and committed at once (outside the lifecycle's transaction, so
 * readers see it while it runs), a fresh log with a header, and the phase cleared whatever happens.
 */
async function operate<T>(
  ctx: OpContext,
  c: Chroot,
  phase: 'creating' | 'updating' | 'removing',
  work: (log: ChrootLog) => Promise<T>,
): Promise<T> {
  await fs.mkdir(chrootsDir(ctx.dataDir), { recursive: true, mode: 0o755 });
  const started = Date.now();
  const log = ChrootLog.open(
    chrootLogPath(ctx.dataDir, c.key),
    `== ${phase} ${c.key} (${c.backend}) at ${new Date(started).toISOString()}`,
  );
  const setPhase = (p: string | null) => ctx.em.fork().nativeUpdate(Chroot, { id: c.id }, { phase: p });
  await setPhase(phase);
  try {
    const result = await work(log);
    log.line(`== done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    log.line(`== failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${(err as Error).message}`);
    ctx.logger.warn({ chroot: c.key, phase, err: (err as Error).message }, 'chroot operation failed');
    throw err;
  } finally {
    log.close();
    c.phase = null;
    await setPhase(null).catch((err: Error) => ctx.logger.warn({ err }, 'cannot clear the chroot phase'));
  }
}

/** Whatever the other backend left of this chroot (after a backend change). */
async function removeOtherBackend(ctx: OpContext, c: Chroot, log: ChrootLog): Promise<void> {
  if (c.backend === ChrootBackend.SCHROOT) {
    await fs.rm(chrootTarballPath(ctx.dataDir, c.key), { force: true });
    return;
  }
  const name = schrootName(ctx.dataDir, c.key);
  const dir = chrootDirPath(ctx.dataDir, c.key);
  if ((await exists(dir)) || (await exists(schrootConfPath(name)))) {
    log.line(`removing the SCHROOT chroot ${name} left from before the backend changed`);
    await new ChrootHelper(log).remove(name, dir);
  }
}

/** Creates the chroot from its source's mirror with its keyring; nothing is left behind when it fails. */
export async function createChroot(ctx: OpContext, c: Chroot): Promise<void> {
  const source = c.source;
  if (!source.archiveUrl) throw new Error(`source ${source.key} has no checked archive yet: check it first`);
  const mirror = source.archiveUrl;
  await operate(ctx, c, 'creating', async (log) => {
    const keyring = await sourceKeyring(source);
    await removeOtherBackend(ctx, c, log);
    if (c.backend === ChrootBackend.SCHROOT) {
      const name = schrootName(ctx.dataDir, c.key);
      const dir = chrootDirPath(ctx.dataDir, c.key);
      if (!((await exists(dir)) && (await exists(schrootConfPath(name))))) await probeMirror(log, mirror, c.codename);
      await new ChrootHelper(log).create({
        name,
        dir,
        suite: c.codename,
        arch: c.architecture,
        mirror,
        components: COMPONENTS,
        keyring,
      });
      c.sizeBytes = await new ChrootHelper(log).size(dir);
    } else {
      const tarball = chrootTarballPath(ctx.dataDir, c.key);
      if (await exists(tarball)) log.line(`${tarball} already exists`);
      else {
        await probeMirror(log, mirror, c.codename);
        await mmdebstrapTarball(log, {
          tarball,
          suite: c.codename,
          arch: c.architecture,
          mirror,
          components: COMPONENTS,
          keyring,
        });
      }
      c.sizeBytes = (await fs.stat(tarball)).size;
    }
    c.refreshedAt ??= new Date();
  });
}

/** Brings the chroot up to date: apt update + dist-upgrade in the schroot source, or a rebuilt tarball. */
export async function updateChroot(ctx: OpContext, c: Chroot): Promise<void> {
  await operate(ctx, c, 'updating', async (log) => {
    if (c.backend === ChrootBackend.SCHROOT) {
      const name = schrootName(ctx.dataDir, c.key);
      const dir = chrootDirPath(ctx.dataDir, c.key);
      if (!(await exists(schrootConfPath(name))) || !(await exists(dir)))
        throw new Error(
          `the schroot chroot ${name} is gone (${dir} or its configuration is missing): prepare it again`,
        );
      await new ChrootHelper(log).update(name);
      c.sizeBytes = await new ChrootHelper(log).size(dir);
    } else {
      const tarball = chrootTarballPath(ctx.dataDir, c.key);
      const stat = await fs.stat(tarball).catch(() => null);
      if (!stat) throw new Error(`${tarball} is gone: prepare it again`);
      if (Date.now() - stat.mtimeMs < FRESH_MS) log.line(`${tarball} was made less than 10 minutes ago: kept`);
      else {
        const source = c.source;
        await probeMirror(log, source.archiveUrl, c.codename);
        await mmdebstrapTarball(log, {
          tarball,
          suite: c.codename,
          arch: c.architecture,
          mirror: source.archiveUrl,
          components: COMPONENTS,
          keyring: await sourceKeyring(source),
        });
      }
      c.sizeBytes = (await fs.stat(tarball)).size;
    }
    c.refreshedAt = new Date();
  });
}

/** Deletes the chroot (directory and schroot configuration, or the tarball). */
export async function removeChroot(ctx: OpContext, c: Chroot): Promise<void> {
  await operate(ctx, c, 'removing', async (log) => {
    const name = schrootName(ctx.dataDir, c.key);
    const dir = chrootDirPath(ctx.dataDir, c.key);
    if (c.backend === ChrootBackend.SCHROOT || (await exists(dir)) || (await exists(schrootConfPath(name))))
      await new ChrootHelper(log).remove(name, dir);
    const tarball = chrootTarballPath(ctx.dataDir, c.key);
    await fs.rm(tarball, { force: true });
    await fs.rm(path.join(path.dirname(tarball), `.${c.key}.new.tar.zst`), { force: true });
    c.sizeBytes = null;
    c.refreshedAt = null;
  });
}

/**
 * Runs a CHECK (update and upgrade) on every active chroot, one after another. A failure is saved by
 * the lifecycle with its reason and a CONFIG_FAILED event (the chroot then waits to come back by itself)
 * and does not stop the others.
 */
export async function refreshActiveChroots(lifecycle: LifecycleService, by: string | null): Promise<void> {
  // LifecycleService keeps its ORM to itself; a short-lived fork only lists the keys.
  const em = lifecycle['orm'].em.fork();
  const chroots = await em.find(Chroot, { status: ConfigStatus.ACTIVE }, { populate: ['source'] });
  for (const key of chroots.map((c) => c.key).sort())
    await lifecycle.run(ConfigKind.CHROOT, key, LifecycleAction.CHECK, by).catch(() => undefined);
}

/** Clears phases a crash left (nothing runs at start). */
export async function clearChrootPhases(em: EntityManager): Promise<void> {
  await em.nativeUpdate(Chroot, { phase: { $ne: null } }, { phase: null });
}

/**
 * At daemon start: ends this instance's schroot sessions a crash left behind and removes sbuild's
 * temporary unshare directories of this instance (and, for the default data directory, untagged ones)
 * owned by the daemon user. Best effort: problems are logged, never thrown.
 */
export async function cleanupAfterCrash(dataDir: string, logger: Logger): Promise<void> {
  const prefix = schrootPrefix(dataDir);
  const stale = await sessionsOf(prefix, prefix === 'debyard-' ? /^debyard-[0-9a-f]{8}-/ : undefined);
  if (stale.length) {
    logger.info({ sessions: stale }, 'ending schroot sessions left by a crash');
    const log = ChrootLog.open(
      path.join(chrootsDir(dataDir), 'cleanup.log'),
      `== cleanup after a crash at ${new Date().toISOString()}`,
    );
    try {
      await new ChrootHelper(log).endSessions(prefix);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, `ending stale schroot sessions failed (see ${log.file})`);
    } finally {
      log.close();
    }
  }

  const tag = instanceTag(dataDir) || 'default';
  const uid = process.getuid?.() ?? -1;
  for (const parent of ['/dev/shm', '/tmp']) {
    const names = await fs.readdir(parent).catch(() => [] as string[]);
    for (const n of names) {
      const ours = n.startsWith(`tmp.sbuild.debyard-${tag}.`);
      const untagged = /^tmp\.sbuild\.[A-Za-z0-9]{10}$/.test(n) && tag === 'default';
      if (!ours && !untagged) continue;
      const dir = path.join(parent, n);
      const st = await fs.lstat(dir).catch(() => null);
      if (!st?.isDirectory() || st.uid !== uid) continue;
      // Unpacked chroots hold files of the subordinate uids: remove them inside a user namespace.
      const r = await execa('unshare', ['--map-auto', '--map-root-user', '--', 'rm', '-rf', '--one-file-system', dir], {
        reject: false,
        cwd: '/',
      });
      if (r.exitCode === 0) logger.info({ dir }, 'removed a temporary sbuild directory left by a crash');
      else logger.warn({ dir, err: String(r.stderr).trim() }, 'cannot remove a temporary sbuild directory');
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}
