/*
 * Publish elsewhere (issue 6, item 8; mini-buildd runs debmirror against itself for this): a complete,
 * signed copy of a repository, or of chosen codenames, suites and architectures of it, in a directory
 * that can be copied to any web space and used by apt as it is.
 *
 * Under the repository's mutex only hard links are made (dists of the chosen distributions, the pool
 * files their indices name) into a staging directory inside the basedir, so an install is held up for
 * milliseconds, never for the copy. Without an architecture filter each distribution's Release,
 * InRelease and Release.gpg are copied as they are; with one, the other architectures' indices are
 * left out and the Release, which then lists less, is signed again with the instance key. by-hash
 * files are made for the current indices only (a copy has no older generations to serve).
 */
import { randomBytes } from 'node:crypto';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseDeb822, Paragraph, formatDeb822 } from '../debian/deb822.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { containedPath } from '../util/paths.js';
import { byHashPath, parseRelease } from './publish.js';
import { loadRepository, publishedDistributions, repreproFor, type PublishedDistribution } from './repository.kind.js';
import { Repository } from './repository.entity.js';
import type { Reprepro } from './reprepro.js';
import type { Logger } from '../log.js';

/** The file in a mirror directory that says it is one (and so may be updated in place). */
export const MIRROR_MARKER = '.debyard-mirror';
const CHECKSUM_FIELDS = ['MD5Sum', 'SHA1', 'SHA256', 'SHA512'];
const CONTENTS = /^Contents-(?:udeb-)?([a-z0-9-]+?)(?:\.(?:gz|xz|bz2))?$/;
const NAME = /^[a-z0-9][a-z0-9.+-]*$/;

export interface MirrorRequest {
  repository: string;
  /** Absolute path on the daemon's host: new, empty, or an earlier mirror (which is updated). */
  directory: string;
  /** Base codenames (`bookworm`); default all. */
  codenames?: string[] | null;
  /** Suites (`stable`, `unstable`); default all. */
  suites?: string[] | null;
  /** Binary architectures; default all. Sources are always copied. */
  architectures?: string[] | null;
  /** How many rollback distributions per suite to copy too (0: none). */
  rollbacks?: number | null;
}

export interface MirrorResult {
  repository: string;
  directory: string;
  distributions: string[];
  architectures: string[];
  /** Distributions whose Release lists fewer indices than the original and was signed again. */
  resigned: string[];
  poolFiles: number;
  bytes: number;
  seconds: number;
}

/** The binary architecture an index path belongs to (`main/binary-amd64/Packages.xz` → amd64), or null. */
export function architectureOf(indexPath: string): string | null {
  const parts = indexPath.split('/');
  for (const p of parts.slice(0, -1)) {
    const m = /^binary-([a-z0-9-]+)$/.exec(p);
    if (m) return m[1]!;
  }
  const contents = CONTENTS.exec(parts.at(-1)!);
  return contents ? contents[1]! : null;
}

/**
 * A Release without the indices of architectures not in `keep`: their lines leave every checksum list
 * and `Architectures` lists only the kept ones. `changed` says whether anything was dropped (then it
 * must be signed again).
 */
export function filterRelease(text: string, keep: Set<string>): { text: string; changed: boolean; dropped: string[] } {
  const { paragraph } = parseRelease(text);
  const dropped = new Set<string>();
  const out = new Paragraph();
  for (const [name, value] of paragraph) {
    if (CHECKSUM_FIELDS.some((f) => f.toLowerCase() === name.toLowerCase())) {
      const lines = paragraph.lines(name).filter((line) => {
        const file = line.trim().split(/\s+/)[2] ?? '';
        const arch = architectureOf(file);
        if (arch === null || arch === 'source' || keep.has(arch)) return true;
        dropped.add(file);
        return false;
      });
      out.set(name, ['', ...lines].join('\n'));
    } else if (name.toLowerCase() === 'architectures') {
      out.set(
        name,
        value
          .split(/\s+/)
          .filter((a) => a === 'source' || a === 'all' || keep.has(a))
          .join(' '),
      );
    } else out.set(name, value);
  }
  const changed = dropped.size > 0 || out.get('Architectures') !== paragraph.get('Architectures');
  return { text: changed ? formatDeb822([out]) : text, changed, dropped: [...dropped].sort() };
}

/** The pool files a Packages or Sources index names, relative to the repository (`pool/main/h/hello/…`). */
export function poolFilesOf(index: string, kind: 'Packages' | 'Sources'): string[] {
  const files: string[] = [];
  for (const p of parseDeb822(index, { source: kind })) {
    if (kind === 'Packages') {
      const f = p.get('Filename');
      if (f) files.push(f);
    } else {
      const dir = p.get('Directory') ?? '';
      for (const line of p.lines('Files')) {
        const name = line.trim().split(/\s+/)[2];
        if (name) files.push(path.posix.join(dir, name));
      }
    }
  }
  return files;
}

function badInput(field: string, message: string): DomainError {
  return new DomainError('BAD_USER_INPUT', message, { field });
}

/** Whether `inner` is `outer` or below it. */
function within(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Hard-links (copies across file systems) `from` to `to`, making `to`'s directory. */
async function place(from: string, to: string, copy = false): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  if (!copy)
    try {
      await link(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    }
  const tmp = `${to}.tmp-${randomBytes(4).toString('hex')}`;
  await copyFile(from, tmp);
  await rename(tmp, to);
}

/** Every file below dir, relative to it. */
async function filesBelow(dir: string, relative = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => [])) {
    const rel = relative ? `${relative}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesBelow(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** Removes empty directories below dir (not dir itself). */
async function pruneEmptyDirs(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dir, e.name);
    await pruneEmptyDirs(sub);
    await rmdir(sub).catch(() => undefined);
  }
}

/** Checks and prepares the target directory; refuses what is not new, empty or an earlier mirror. */
export async function targetDirectory(directory: string, dataDir: string): Promise<string> {
  // eslint-disable-next-line no-control-regex
  if (typeof directory !== 'string' || !path.isAbsolute(directory) || /[\x00-\x1f\x7f]/.test(directory))
    throw badInput(
      'directory',
      `${JSON.stringify(directory)} is not an absolute path: give the full path of a directory`,
    );
  const wanted = path.resolve(directory);
  const data = await realpath(dataDir).catch(() => path.resolve(dataDir));
  const refuseInside = (p: string) => {
    if (within(data, p) || within(p, data))
      throw badInput(
        'directory',
        `${directory} is inside the daemon's data directory ${data} or contains it: choose a directory elsewhere`,
      );
  };
  refuseInside(wanted);
  if (!(await exists(wanted))) {
    await mkdir(wanted, { recursive: true }).catch((err: Error) => {
      throw badInput('directory', `cannot create ${directory}: ${err.message}`);
    });
  }
  const real = await realpath(wanted);
  refuseInside(real);
  if (!(await stat(real)).isDirectory()) throw badInput('directory', `${directory} is not a directory`);
  const entries = await readdir(real);
  if (entries.length > 0 && !entries.includes(MIRROR_MARKER))
    throw new DomainError(
      'MIRROR_DIRECTORY_IN_USE',
      `${directory} is neither empty nor an earlier mirror (no ${MIRROR_MARKER} in it): choose a new or empty directory`,
      { field: 'directory' },
    );
  return real;
}

function select(
  all: PublishedDistribution[],
  req: MirrorRequest,
): { dists: PublishedDistribution[]; architectures: string[] } {
  const known = (
    values: string[] | null | undefined,
    have: string[],
    field: string,
    code: 'UNKNOWN_DISTRIBUTION' | 'UNKNOWN_ARCHITECTURE' | 'BAD_USER_INPUT',
  ) => {
    const list = [...new Set(values ?? [])];
    for (const v of list)
      if (!NAME.test(v) || !have.includes(v))
        throw new DomainError(
          code,
          `${JSON.stringify(v)} is not one of the repository's ${field}: ${have.join(', ')}`,
          {
            field,
          },
        );
    return list.length > 0 ? new Set(list) : null;
  };
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const codenames = known(req.codenames, uniq(all.map((d) => d.codename)), 'codenames', 'UNKNOWN_DISTRIBUTION');
  const suites = known(req.suites, uniq(all.map((d) => d.suite)), 'suites', 'BAD_USER_INPUT');
  const archs = known(
    req.architectures,
    uniq(all.flatMap((d) => d.architectures)),
    'architectures',
    'UNKNOWN_ARCHITECTURE',
  );
  const rollbacks = req.rollbacks ?? 0;
  if (!Number.isInteger(rollbacks) || rollbacks < 0)
    throw badInput('rollbacks', `rollbacks must be a whole number from 0, not ${rollbacks}`);
  const dists = all.filter(
    (d) =>
      (!codenames || codenames.has(d.codename)) &&
      (!suites || suites.has(d.suite)) &&
      (d.rollback === null || d.rollback < rollbacks),
  );
  const architectures = uniq(dists.flatMap((d) => d.architectures)).filter((a) => !archs || archs.has(a));
  return { dists, architectures };
}

/** Mirrors repositories into directories (admins); see the top of this file. */
export class MirrorService {
  constructor(private readonly deps: { keys: InstanceKeyStore; dataDir: string; logger: Logger }) {}

  /**
   * Writes a complete, signed copy of a repository (or the chosen part of it) into a directory.
   * Refuses with BAD_USER_INPUT (`field` says which), NOT_FOUND, LIFECYCLE, UNKNOWN_DISTRIBUTION,
   * UNKNOWN_ARCHITECTURE or MIRROR_DIRECTORY_IN_USE before it writes anything.
   */
  mirror(em: EntityManager, req: MirrorRequest): Promise<MirrorResult> {
    return mirrorRepository(em, this.deps, req);
  }
}

async function mirrorRepository(
  em: EntityManager,
  deps: { keys: InstanceKeyStore; dataDir: string; logger: Logger },
  req: MirrorRequest,
): Promise<MirrorResult> {
  const started = performance.now();
  const repo = await em.findOne(Repository, { identity: String(req.repository ?? '') });
  if (!repo) throw new DomainError('NOT_FOUND', `there is no repository ${JSON.stringify(req.repository)}`);
  if (repo.status === ConfigStatus.REMOVED)
    throw new DomainError('LIFECYCLE', `repository ${repo.identity} is not prepared: prepare it before mirroring`);
  await loadRepository(em, repo);
  const { dists, architectures } = select(publishedDistributions(repo), req);
  const target = await targetDirectory(req.directory, deps.dataDir);
  const reprepro = repreproFor({ em, ...deps }, repo);
  const result = await writeMirror(reprepro, deps.keys, { repository: repo.identity, dists, architectures, target });
  const done = { ...result, seconds: Math.round(performance.now() - started) / 1000 };
  deps.logger.info(done, 'repository mirrored');
  return done;
}

/**
 * The copy itself, once the request is checked: `dists` (name and architectures) from the reprepro
 * basedir into `target` (an existing directory, empty or an earlier mirror), only `architectures` of them.
 */
export async function writeMirror(
  reprepro: Reprepro,
  keys: Pick<InstanceKeyStore, 'signCleartext' | 'signDetached'>,
  plan: {
    repository: string;
    dists: Pick<PublishedDistribution, 'name' | 'architectures'>[];
    architectures: string[];
    target: string;
  },
): Promise<Omit<MirrorResult, 'seconds'>> {
  const { dists, architectures, target } = plan;
  const filtered = new Set(architectures);
  const archFilter = architectures.length < new Set(dists.flatMap((d) => d.architectures)).size;
  const staging = path.join(reprepro.basedir, `.mirror-${randomBytes(6).toString('hex')}`);
  try {
    // Hard links only, under the mutex: a consistent state of every chosen distribution and its pool.
    const pool = await reprepro.sequence(async () => {
      const needed = new Set<string>();
      for (const d of dists) {
        const from = path.join(reprepro.basedir, 'dists', d.name);
        const to = path.join(staging, 'dists', d.name);
        const releaseText = await readFile(path.join(from, 'Release'), 'utf8').catch(() => {
          throw new DomainError('LIFECYCLE', `${d.name} has not been published: check repository ${plan.repository}`);
        });
        for (const name of ['Release', 'InRelease', 'Release.gpg'])
          if (await exists(path.join(from, name))) await place(path.join(from, name), path.join(to, name));
        for (const entry of parseRelease(releaseText).sha256) {
          const arch = architectureOf(entry.path);
          if (arch !== null && arch !== 'source' && !filtered.has(arch)) continue;
          const file = containedPath(from, entry.path);
          if (!(await exists(file))) continue;
          await place(file, path.join(to, entry.path));
          const base = path.posix.basename(entry.path);
          if (base === 'Packages' || base === 'Sources')
            for (const f of poolFilesOf(await readFile(file, 'utf8'), base)) needed.add(f);
        }
      }
      for (const f of needed) {
        if (!f.startsWith('pool/')) throw new Error(`an index names ${f}, which is not in the pool`);
        await place(containedPath(reprepro.basedir, f), containedPath(staging, f));
      }
      return [...needed].sort();
    });

    // Outside the mutex: narrow and sign again, then by-hash files for what each Release lists.
    const resigned: string[] = [];
    for (const d of dists) {
      const dir = path.join(staging, 'dists', d.name);
      let releaseText = await readFile(path.join(dir, 'Release'), 'utf8');
      if (archFilter) {
        const narrowed = filterRelease(releaseText, filtered);
        if (narrowed.changed) {
          releaseText = narrowed.text;
          // Replace, never write through: these are hard links to the published files.
          for (const name of ['Release', 'InRelease', 'Release.gpg']) await rm(path.join(dir, name), { force: true });
          await writeFile(path.join(dir, 'Release'), releaseText);
          await writeFile(path.join(dir, 'InRelease'), await keys.signCleartext(releaseText));
          await writeFile(path.join(dir, 'Release.gpg'), await keys.signDetached(Buffer.from(releaseText)));
          resigned.push(d.name);
        }
      }
      for (const entry of parseRelease(releaseText).sha256) {
        const file = path.join(dir, entry.path);
        if (await exists(file)) await place(file, path.join(dir, byHashPath(entry)));
      }
    }

    // Into the target: the pool first (what the new indices name must be there before they are),
    // then each distribution swapped in whole, then what the copy no longer needs goes.
    let bytes = 0;
    for (const f of pool) {
      const from = path.join(staging, f);
      const to = containedPath(target, f);
      const size = (await stat(from)).size;
      bytes += size;
      if ((await stat(to).catch(() => null))?.size !== size) await place(from, to, true);
    }
    const distsDir = path.join(target, 'dists');
    await mkdir(distsDir, { recursive: true });
    for (const d of dists) {
      const fresh = path.join(distsDir, `.${d.name}.new`);
      const old = path.join(distsDir, `.${d.name}.old`);
      await rm(fresh, { recursive: true, force: true });
      await rm(old, { recursive: true, force: true });
      const from = path.join(staging, 'dists', d.name);
      for (const f of await filesBelow(from)) {
        await place(path.join(from, f), path.join(fresh, f), true);
        bytes += (await stat(path.join(from, f))).size;
      }
      if (await exists(path.join(distsDir, d.name))) await rename(path.join(distsDir, d.name), old);
      await rename(fresh, path.join(distsDir, d.name));
      await rm(old, { recursive: true, force: true });
    }
    const chosen = new Set(dists.map((d) => d.name));
    for (const e of await readdir(distsDir))
      if (!chosen.has(e)) await rm(path.join(distsDir, e), { recursive: true, force: true });
    const keep = new Set(pool);
    for (const f of await filesBelow(path.join(target, 'pool')))
      if (!keep.has(`pool/${f}`)) await rm(path.join(target, 'pool', f), { force: true });
    await pruneEmptyDirs(path.join(target, 'pool'));

    const result = {
      repository: plan.repository,
      directory: target,
      distributions: dists.map((d) => d.name),
      architectures,
      resigned,
      poolFiles: pool.length,
      bytes,
    };
    const marker = { repository: plan.repository, distributions: result.distributions, architectures };
    await writeFile(
      path.join(target, MIRROR_MARKER),
      JSON.stringify({ ...marker, mirroredAt: new Date().toISOString() }, null, 1) + '\n',
    );
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
