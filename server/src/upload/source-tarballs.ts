/**
 * Source tarball safety (bad inputs C.4 20–22): every tarball an upload brings is listed with GNU tar
 * ({@link listTarball}) before anything unpacks it, and refused (SOURCE_UNSAFE, naming the tarball
 * and the member) for:
 * - member names that are absolute or have `..` components;
 * - symlinks whose target is absolute or leaves the tree, and members written through a symlink of
 *   the same tarball (`d -> /etc`, then `d/passwd`);
 * - hard links to absolute names or names with `..`;
 * - device nodes, FIFOs and members of other unusual types; setuid and setgid files;
 * - a `debian` that is a symlink in a debian tarball, or at the top of a native tarball's tree;
 * - decompression bombs and huge trees: tar is stopped as soon as the declared sizes of all members of
 *   all tarballs add up to more than a cap, the members to more than a cap, or the time runs out.
 *
 * "The tree" is where dpkg-source puts a tarball's contents: for an orig or native tarball with one
 * top-level directory, that directory (dpkg-source renames it to the package directory); otherwise, and
 * always for a debian tarball, the tarball's root. Symlink targets are resolved through the tarball's
 * other symlinks (`a -> b/c`, `x -> a/../..`), as the kernel would after extraction.
 *
 * Files that come from the pool were listed when they were uploaded and are not listed again.
 */
import path from 'node:path';
import { UploadRejection } from './checks.js';
import { listTarball, TarError, type TarMember } from './tar.js';

/** The caps of one upload's tarballs, all together. */
export interface TarballLimits {
  /** Sum of the members' declared sizes. */
  maxUnpackedBytes: number;
  maxMembers: number;
  /** For listing all of them. */
  timeoutMs: number;
}

export const MAX_UNPACKED_BYTES = 4 * 1024 ** 3;
export const MAX_MEMBERS = 200_000;
export const LIST_TIMEOUT_MS = 120_000;
export const DEFAULT_TARBALL_LIMITS: TarballLimits = {
  maxUnpackedBytes: MAX_UNPACKED_BYTES,
  maxMembers: MAX_MEMBERS,
  timeoutMs: LIST_TIMEOUT_MS,
};

const TARBALL = /\.tar(?:\.(?:gz|xz|bz2|lzma|zst))?$/;
const DEBIAN_TARBALL = /\.debian\.tar(?:\.[a-z0-9]+)?$/;
const ORIG_TARBALL = /\.orig(?:-[a-zA-Z0-9][a-zA-Z0-9-]*)?\.tar(?:\.[a-z0-9]+)?$/;
/** The kernel's limit on symlinks followed in one lookup (Linux MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

export type TarballKind = 'orig' | 'debian' | 'native';

/** Whether `name` (a file of a .dsc) is a tarball of the source package. */
export function isSourceTarball(name: string): boolean {
  return TARBALL.test(name);
}

export function tarballKind(name: string): TarballKind {
  return DEBIAN_TARBALL.test(name) ? 'debian' : ORIG_TARBALL.test(name) ? 'orig' : 'native';
}

/** Lists the tarballs in turn; throws {@link UploadRejection} SOURCE_UNSAFE at the first problem. */
export async function checkSourceTarballs(
  tarballs: { name: string; path: string }[],
  limits: TarballLimits = DEFAULT_TARBALL_LIMITS,
): Promise<void> {
  const totals = { bytes: 0, members: 0 };
  const deadline = Date.now() + limits.timeoutMs;
  for (const tarball of tarballs) {
    const left = deadline - Date.now();
    if (left <= 0) throw timedOut(tarball.name, limits, totals);
    await checkTarball(tarball, limits, totals, left);
  }
}

const REPACK = 'repack the tarball without it and rebuild the source package';
const TOO_LARGE = 'debyard does not unpack source packages that large';
const REBUILD = 'rebuild the source package (dpkg-source -b) and upload it again';

function unsafe(tarball: string, why: string, hint: string): UploadRejection {
  return new UploadRejection('SOURCE_UNSAFE', `${tarball}: ${why}: ${hint}`);
}

function timedOut(tarball: string, limits: TarballLimits, totals: { bytes: number; members: number }) {
  return unsafe(
    tarball,
    `listing the source tarballs took longer than ${limits.timeoutMs >= 1000 ? `${Math.round(limits.timeoutMs / 1000)} s` : `${limits.timeoutMs} ms`} ` +
      `(${totals.members} members, ${totals.bytes} bytes so far)`,
    TOO_LARGE,
  );
}

/** Path components of a member name; `.` and empty components dropped (`./a//b/` is `a/b`). */
function components(name: string): string[] {
  return name.split('/').filter((c) => c !== '' && c !== '.');
}

async function checkTarball(
  tarball: { name: string; path: string },
  limits: TarballLimits,
  totals: { bytes: number; members: number },
  timeoutMs: number,
): Promise<void> {
  const kind = tarballKind(tarball.name);
  const reject = (why: string, hint = REPACK) => unsafe(tarball.name, why, hint);
  const symlinks = new Map<string, TarMember>();
  const tops = new Set<string>();
  const onMember = (m: TarMember) => {
    totals.members += 1;
    totals.bytes += m.size;
    if (totals.members > limits.maxMembers)
      throw reject(
        `the source tarballs have more than ${limits.maxMembers} members (stopped at ${m.quotedName})`,
        TOO_LARGE,
      );
    if (totals.bytes > limits.maxUnpackedBytes)
      throw reject(
        `the source tarballs declare more than ${limits.maxUnpackedBytes} bytes unpacked (${m.quotedName} alone ${m.size}): ` +
          'a decompression bomb, or far too large',
        TOO_LARGE,
      );
    const what = `member ${m.quotedName}`;
    if (m.name.startsWith('/')) throw reject(`${what} has an absolute name`);
    const parts = components(m.name);
    if (parts.includes('..')) throw reject(`${what} has a ".." component`);
    if (parts.length > 0) tops.add(parts[0]!);
    if (m.type === 'char-device' || m.type === 'block-device') throw reject(`${what} is a device node`);
    if (m.type === 'fifo') throw reject(`${what} is a FIFO`);
    if (m.type === null) throw reject(`${what} is of a type source packages do not hold (tar type "${m.typeLetter}")`);
    if (m.setuid || m.setgid) throw reject(`${what} is ${m.setuid ? 'setuid' : 'setgid'} (${m.permissions})`);
    for (let i = 1; i < parts.length; i++) {
      const through = symlinks.get(parts.slice(0, i).join('/'));
      if (through)
        throw reject(`${what} would be written through the symlink ${through.quotedName} -> ${through.quotedLink}`);
    }
    if (m.type === 'hardlink') {
      if (m.link!.startsWith('/') || components(m.link!).includes('..'))
        throw reject(`${what} is a hard link to ${m.quotedLink}, outside the tree`);
    }
    if (m.type === 'symlink') {
      const atTop = parts.length === 1 || (kind === 'native' && parts.length === 2);
      if (parts.at(-1) === 'debian' && atTop && kind !== 'orig')
        throw reject(`${what} is a symlink (to ${m.quotedLink}); debian/ must be a directory`);
      if (m.link!.startsWith('/')) throw reject(`${what} is a symlink to the absolute path ${m.quotedLink}`);
      symlinks.set(parts.join('/'), m);
    }
  };
  try {
    await listTarball(tarball.path, onMember, { timeoutMs });
  } catch (err) {
    if (err instanceof UploadRejection) throw err;
    if (err instanceof TarError && err.code === 'TAR_TIMEOUT') throw timedOut(tarball.name, limits, totals);
    if (err instanceof TarError) throw reject(err.message, err.code === 'TAR_FAILED' ? REBUILD : REPACK);
    throw err;
  }

  const root = kind !== 'debian' && tops.size === 1 ? [...tops] : [];
  for (const [name, link] of symlinks) {
    const escape = resolvesOutside(name, link.link!, symlinks, root);
    if (escape)
      throw reject(
        `member ${link.quotedName} is a symlink to ${link.quotedLink}, which ${escape === 'loop' ? 'is part of a symlink loop' : 'points outside the source tree'}`,
      );
  }
}

/**
 * Follows `target` from the directory of symlink `name` like the kernel would after extraction (the
 * tarball's other symlinks included); says whether it leaves the tree `root` at any point, or loops.
 */
function resolvesOutside(
  name: string,
  target: string,
  symlinks: Map<string, TarMember>,
  root: string[],
): 'outside' | 'loop' | null {
  const at = components(path.posix.dirname(name));
  const inTree = (p: string[]) => p.length >= root.length && root.every((c, i) => p[i] === c);
  if (!inTree(at)) return 'outside';
  let pending = components(target);
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      if (at.length <= root.length) return 'outside';
      at.pop();
      continue;
    }
    at.push(c);
    const link = symlinks.get(at.join('/'));
    if (!link) continue;
    if (++hops > MAX_SYMLINK_HOPS) return 'loop';
    if (link.link!.startsWith('/')) return 'outside';
    at.pop();
    pending = [...components(link.link!), ...pending];
  }
  return null;
}
