/*
 * The one wrapper around reprepro (one basedir per repository).
 *
 * Lock order, written once: every reprepro call for a repository — and every write of its conf/ or
 * removal of its basedir — runs inside that repository's in-process mutex (a promise chain keyed by
 * the resolved basedir, shared by all Reprepro instances in the process). reprepro's own
 * db/lockfile is taken by the child inside that mutex; `--waitforlock 10` only covers a person
 * running reprepro by hand at the same time. Code holding one repository's mutex never waits for
 * another repository's mutex: an operation spanning two repositories takes them one after the other,
 * never nested. Nothing else (database transactions included) may be awaited while holding it.
 * reprepro's SignWith hook (by-hash files, Acquire-By-Hash, signing: publish.ts) runs inside the child,
 * and the by-hash sweep after each call, so both are inside the mutex too.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../log.js';
import { containedPath } from '../util/paths.js';
import { HISTORY_DIR, SIGN_HOOK_NAME, signHookScript, sweepByHash } from './publish.js';

export interface RepreproDistribution {
  /** `<codename>-<repo>-<suite>[-rollback<n>]`. */
  codename: string;
  origin: string;
  /** Defaults to the codename. */
  label?: string;
  /** Defaults to the codename. */
  suite?: string;
  components: string[];
  /** Binary architectures; `source` is added. */
  architectures: string[];
  description: string;
  notAutomatic: boolean;
  butAutomaticUpgrades: boolean;
  /** Meta distribution names whose uploads this distribution accepts (mini-buildd leaves it empty for rollbacks). */
  alsoAcceptFor?: string[];
  /** Fingerprint (or long key id) of the signing key in the configured GNUPGHOME. */
  signWith: string;
  /** reprepro `ValidFor` (for example `7d`): puts Valid-Until into Release. */
  validFor?: string;
}

export type RepreproErrorCode = 'REPREPRO_FAILED' | 'REPREPRO_LOCKED' | 'CONFIG_INVALID';

export class RepreproError extends Error {
  override readonly name = 'RepreproError';

  constructor(
    readonly code: RepreproErrorCode,
    message: string,
    /** reprepro's exit code; undefined when it never ran (CONFIG_INVALID) or could not be started. */
    readonly exitCode?: number,
    readonly stderr = '',
  ) {
    super(message);
  }
}

export interface RepreproRunResult {
  stdout: string;
  stderr: string;
  ms: number;
}

const TOKEN = /^[a-z0-9][a-z0-9.+-]*$/;
const COMPONENT = /^[a-z0-9][a-z0-9-]*$/;
/** debyard's file name rule (util/paths.ts): it is a directory name and part of apt lines. */
export const SNAPSHOT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.~+-]*$/;
const ARCHITECTURE = /^[a-z0-9][a-z0-9-]*$/;
const FINGERPRINT = /^(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/;
const VALID_FOR = /^[1-9][0-9]{0,4} ?[dmy](?: [1-9][0-9]{0,4} ?[dmy])*$/;
/** Debian's usual order; mini-buildd sorts components by it, unknown ones after it alphabetically. */
const COMPONENT_ORDER = ['main', 'contrib', 'non-free', 'non-free-firmware', 'universe', 'restricted', 'multiverse'];
const MAX_TEXT = 200;

function invalid(message: string): never {
  throw new RepreproError('CONFIG_INVALID', message);
}

function token(value: string, what: string, pattern = TOKEN): string {
  if (typeof value !== 'string' || !pattern.test(value) || value.length > 100)
    invalid(`${what} ${JSON.stringify(value)} is not valid: it must match ${pattern.source}`);
  return value;
}

/** Free text for a single reprepro field: printable, one line, no leading or trailing blanks. */
function text(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) invalid(`${what} is empty`);
  if (value.length > MAX_TEXT) invalid(`${what} is longer than ${MAX_TEXT} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value))
    invalid(`${what} ${JSON.stringify(value)} contains a newline or control character`);
  if (value.trim() !== value) invalid(`${what} ${JSON.stringify(value)} has leading or trailing blanks`);
  return value;
}

function uniqueList(values: string[], what: string, pattern: RegExp, allowEmpty = false): string[] {
  if (!Array.isArray(values)) invalid(`${what} must be a list`);
  if (values.length === 0 && !allowEmpty) invalid(`${what} must not be empty`);
  const seen = new Set<string>();
  for (const v of values) {
    token(v, `${what} entry`, pattern);
    if (seen.has(v)) invalid(`${what} lists ${JSON.stringify(v)} twice`);
    seen.add(v);
  }
  return [...seen];
}

function componentRank(c: string): number {
  const i = COMPONENT_ORDER.indexOf(c);
  return i === -1 ? COMPONENT_ORDER.length : i;
}

function renderStanza(d: RepreproDistribution, signHook?: string): string {
  const codename = token(d.codename, 'Codename');
  const suite = token(d.suite ?? codename, `Suite of ${codename}`);
  const label = text(d.label ?? codename, `Label of ${codename}`);
  const origin = text(d.origin, `Origin of ${codename}`);
  const description = text(d.description, `Description of ${codename}`);
  const components = uniqueList(d.components, `Components of ${codename}`, COMPONENT).sort(
    (a, b) => componentRank(a) - componentRank(b) || a.localeCompare(b, 'en'),
  );
  const architectures = uniqueList(d.architectures, `Architectures of ${codename}`, ARCHITECTURE).sort();
  if (architectures.includes('source'))
    invalid(`Architectures of ${codename} lists "source": give binary architectures only, source is added`);
  const alsoAcceptFor = uniqueList(d.alsoAcceptFor ?? [], `AlsoAcceptFor of ${codename}`, TOKEN, true).sort();
  const signWith = String(d.signWith ?? '').toUpperCase();
  if (!FINGERPRINT.test(signWith))
    invalid(
      `SignWith of ${codename} must be a key fingerprint (16, 40 or 64 hex digits), not ${JSON.stringify(d.signWith)}`,
    );
  if (typeof d.notAutomatic !== 'boolean' || typeof d.butAutomaticUpgrades !== 'boolean')
    invalid(`NotAutomatic and ButAutomaticUpgrades of ${codename} must be booleans`);
  if (d.validFor !== undefined && !VALID_FOR.test(d.validFor))
    invalid(`ValidFor of ${codename} ${JSON.stringify(d.validFor)} is not valid: use for example "7d", "1m" or "1y"`);

  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  const lines = [
    `Codename: ${codename}`,
    `Suite: ${suite}`,
    `Label: ${label}`,
    ...(alsoAcceptFor.length > 0 ? [`AlsoAcceptFor: ${alsoAcceptFor.join(' ')}`] : []),
    `Origin: ${origin}`,
    `Components: ${components.join(' ')}`,
    `UDebComponents: ${components.join(' ')}`,
    `Architectures: source ${architectures.join(' ')}`,
    `Description: ${description}`,
    `SignWith: ${signHook !== undefined ? `! ${signHook}` : signWith}`,
    `NotAutomatic: ${yesNo(d.notAutomatic)}`,
    `ButAutomaticUpgrades: ${yesNo(d.butAutomaticUpgrades)}`,
    ...(d.validFor !== undefined ? [`ValidFor: ${d.validFor}`] : []),
    'DebIndices: Packages Release . .gz .xz',
    'DscIndices: Sources Release . .gz .xz',
    'Contents: .gz',
  ];
  return lines.join('\n') + '\n';
}

/**
 * Renders conf/distributions: mini-buildd's stanza for each distribution, sorted by codename so the
 * same set always gives the same bytes. Throws RepreproError CONFIG_INVALID for a value reprepro
 * would misread (newlines, unsafe tokens, duplicates). With `signHook`, every `SignWith` calls that
 * script (see publish.ts) instead of signing with the fingerprint itself.
 */
export function renderDistributions(dists: RepreproDistribution[], opts: { signHook?: string } = {}): string {
  if (!Array.isArray(dists)) invalid('distributions must be a list');
  // eslint-disable-next-line no-control-regex
  if (opts.signHook !== undefined && (!path.isAbsolute(opts.signHook) || /[\s\x00-\x1f\x7f]/.test(opts.signHook)))
    invalid(`the sign hook ${JSON.stringify(opts.signHook)} must be an absolute path without blanks`);
  const stanzas = dists.map((d) => renderStanza(d, opts.signHook));
  const codenames = dists.map((d) => d.codename);
  const suites = dists.map((d) => d.suite ?? d.codename);
  for (const [i, c] of codenames.entries())
    if (codenames.indexOf(c) !== i) invalid(`distribution ${JSON.stringify(c)} is listed twice`);
  // reprepro links dists/<suite> to dists/<codename>: a suite must not shadow another distribution.
  for (const [i, s] of suites.entries()) {
    if (suites.indexOf(s) !== i) invalid(`suite ${JSON.stringify(s)} is used by two distributions`);
    if (s !== codenames[i] && codenames.includes(s))
      invalid(`suite ${JSON.stringify(s)} of ${codenames[i]} is another distribution's codename`);
  }
  const order = codenames.map((_, i) => i).sort((a, b) => (codenames[a]! < codenames[b]! ? -1 : 1));
  return order.map((i) => stanzas[i]).join('\n');
}

function renderOptions(gnupgHome: string): string {
  // eslint-disable-next-line no-control-regex
  if (!path.isAbsolute(gnupgHome) || /[\x00-\x1f\x7f]/.test(gnupgHome))
    invalid(`gnupgHome ${JSON.stringify(gnupgHome)} must be an absolute path without control characters`);
  return `gnupghome ${gnupgHome}\n`;
}

interface ConfiguredDistribution {
  codename: string;
  suite: string;
  components: Set<string>;
  /** Includes `source`. */
  architectures: Set<string>;
}

/** The distributions a conf/distributions text (as renderDistributions writes it) declares. */
function parseDistributions(distributions: string): ConfiguredDistribution[] {
  return distributions
    .split(/\n\s*\n/)
    .map((stanza) => new Map([...stanza.matchAll(/^([A-Za-z]+): ?(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()])))
    .filter((fields) => fields.has('Codename'))
    .map((fields) => {
      const codename = fields.get('Codename')!;
      const words = (field: string): Set<string> => new Set((fields.get(field) ?? '').split(/\s+/).filter(Boolean));
      return {
        codename,
        suite: fields.get('Suite') ?? codename,
        components: words('Components'),
        architectures: words('Architectures'),
      };
    });
}

/** `Contents-amd64.gz`, `Contents-udeb-amd64.gz` → `amd64`. */
const CONTENTS_FILE = /^Contents-(?:udeb-)?([a-z0-9-]+?)(?:\.(?:gz|xz|bz2))?$/;
/** Directories apt-visible per component: `binary-<arch>`, also under debian-installer/. */
const BINARY_DIR = /^binary-([a-z0-9-]+)$/;

/** Per basedir: the Release files (inode, size, mtime) the last by-hash sweep looked at, by distribution. */
const releaseStamps = new Map<string, Map<string, string>>();

/** Per-basedir promise chains; see the lock order at the top. */
const queues = new Map<string, Promise<unknown>>();

function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(fn, fn);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  // Drop the entry once the queue drains so the map does not grow with every repository ever seen.
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

async function writeAtomically(file: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

/** The lines of reprepro's stderr that say what went wrong, without its closing boilerplate. */
function errorLines(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'There have been errors!')
    .slice(0, 20)
    .join('\n');
}

/** One line of `reprepro --type dsc lsbycomponent SOURCE`: `src | version | distribution | component | source`. */
export interface RepreproListing {
  source: string;
  version: string;
  distribution: string;
  component: string;
}

export function parseListing(stdout: string): RepreproListing[] {
  const rows: RepreproListing[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[0]) continue;
    rows.push({ source: cells[0], version: cells[1]!, distribution: cells[2]!, component: cells[3]! });
  }
  return rows;
}

export interface RepreproOptions {
  basedir: string;
  /** The GNUPGHOME holding the instance key; written to conf/options. */
  gnupgHome: string;
  logger: Logger;
}

export class Reprepro {
  readonly basedir: string;
  private readonly gnupgHome: string;
  private readonly logger: Logger;
  /** conf/distributions changed since the last export: clearvanished is due. */
  private reindexDue = false;

  constructor(opts: RepreproOptions) {
    this.basedir = path.resolve(opts.basedir);
    this.gnupgHome = opts.gnupgHome;
    this.logger = opts.logger.child({ basedir: this.basedir });
  }

  /**
   * Writes conf/distributions, conf/options and the sign hook (publish.ts) atomically; returns whether
   * they changed. All distributions of a repository sign with the same key.
   */
  async configure(dists: RepreproDistribution[]): Promise<{ changed: boolean }> {
    const conf = path.join(this.basedir, 'conf');
    const hookFile = path.join(conf, SIGN_HOOK_NAME);
    const fingerprints = new Set(dists.map((d) => String(d.signWith ?? '').toUpperCase()));
    if (fingerprints.size > 1) invalid(`the distributions of ${this.basedir} must all sign with the same key`);
    const distributions = renderDistributions(dists, { signHook: hookFile });
    const options = renderOptions(this.gnupgHome);
    const files: [string, string, number][] = [
      ['distributions', distributions, 0o644],
      ['options', options, 0o644],
    ];
    // The hook first: the distributions that name it are useless without it.
    for (const fingerprint of fingerprints)
      files.unshift([SIGN_HOOK_NAME, signHookScript({ fingerprint, gnupgHome: this.gnupgHome }), 0o755]);
    return this.locked(async () => {
      await mkdir(conf, { recursive: true });
      let changed = false;
      for (const [name, content, mode] of files) {
        const file = path.join(conf, name);
        if ((await readOrEmpty(file)) === content) continue;
        await writeAtomically(file, content, mode);
        changed = true;
      }
      if (changed) {
        this.reindexDue = true;
        this.logger.info(
          { distributions: parseDistributions(distributions).map((d) => d.codename) },
          'reprepro configuration written',
        );
      }
      return { changed };
    });
  }

  /**
   * Re-exports and signs all distributions. After a configuration change it first drops what
   * vanished from the database (`--delete clearvanished`: reprepro's export refuses to run while such
   * databases linger), and afterwards removes the exported indices of vanished distributions,
   * components and architectures, which reprepro leaves behind for apt to find.
   */
  export(): Promise<void> {
    return this.locked(async () => {
      const configured = parseDistributions(await readOrEmpty(path.join(this.basedir, 'conf', 'distributions')));
      if (configured.length === 0)
        throw new RepreproError('CONFIG_INVALID', `${this.basedir} has no distributions: call configure() first`);
      const names = new Set(configured.flatMap((d) => [d.codename, d.suite]));
      const stale = (await this.distsEntries()).filter((name) => !names.has(name));
      // After a restart the in-memory flag is gone: a leftover dists/ directory, or reprepro's own
      // refusal, says that the configuration changed since the last export.
      let reindex = this.reindexDue || stale.length > 0;
      if (reindex) await this.exec(['--delete', 'clearvanished']);
      try {
        await this.exec(['export']);
      } catch (err) {
        if (reindex || !(err instanceof RepreproError) || !/database contains unused/.test(err.stderr)) throw err;
        reindex = true;
        await this.exec(['--delete', 'clearvanished']);
        await this.exec(['export']);
      }
      if (reindex) await this.pruneExported(configured, stale);
      this.reindexDue = false;
    });
  }

  /** Checks the database against the pool (`reprepro check`). */
  async check(): Promise<void> {
    await this.run(['check']);
  }

  /**
   * Raw access: runs `reprepro --basedir B --waitforlock 10 --ignore unusedarch ARGS` behind every
   * earlier call for this repository.
   */
  run(args: string[]): Promise<RepreproRunResult> {
    return this.locked(() => this.exec(args));
  }

  /**
   * Runs several reprepro calls as one step: nothing else for this repository runs in between (an
   * install: shift rollbacks, includedsc, include per architecture, and undo on failure).
   */
  sequence<T>(fn: (exec: (args: string[]) => Promise<RepreproRunResult>) => Promise<T>): Promise<T> {
    return this.locked(() => fn((args) => this.exec(args)));
  }

  /** Every version of a source package in the repository (`ls`), one row per distribution. */
  async ls(source: string): Promise<RepreproListing[]> {
    if (!TOKEN.test(source)) throw new RepreproError('CONFIG_INVALID', `"${source}" is not a source package name`);
    const { stdout } = await this.run(['--type', 'dsc', 'lsbycomponent', source]);
    return parseListing(stdout);
  }

  /**
   * `gensnapshot CODENAME NAME`: the distribution's indices frozen, signed, under
   * dists/CODENAME/snapshots/NAME/; its packages stay in the pool until the snapshot is deleted.
   */
  async gensnapshot(codename: string, name: string): Promise<void> {
    token(codename, 'codename');
    await this.run(['gensnapshot', codename, token(name, 'snapshot name', SNAPSHOT_NAME)]);
  }

  /**
   * Deletes a snapshot (mini-buildd's order): `unreferencesnapshot`, `deleteunreferenced` (pool files
   * only it kept), then its directory. Each step can run again after a crash between them.
   */
  deleteSnapshot(codename: string, name: string): Promise<void> {
    token(codename, 'codename');
    token(name, 'snapshot name', SNAPSHOT_NAME);
    return this.locked(async () => {
      await this.exec(['unreferencesnapshot', codename, name]);
      await this.exec(['deleteunreferenced']);
      await rm(containedPath(path.join(this.basedir, 'dists'), `${codename}/snapshots/${name}`), {
        recursive: true,
        force: true,
      });
    });
  }

  /** Deletes the whole basedir once the calls queued before have finished. */
  remove(): Promise<void> {
    return this.locked(async () => {
      await rm(this.basedir, { recursive: true, force: true });
      releaseStamps.delete(this.basedir);
      this.reindexDue = false;
      this.logger.info('repository basedir removed');
    });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return exclusive(this.basedir, fn);
  }

  /** Removes exported indices that no configured distribution, component or architecture owns. */
  private async pruneExported(configured: ConfiguredDistribution[], stale: string[]): Promise<void> {
    const dists = path.join(this.basedir, 'dists');
    const removed: string[] = [];
    const drop = async (relative: string): Promise<void> => {
      await rm(containedPath(dists, relative), { recursive: true, force: true });
      removed.push(relative);
    };
    const entries = async (relative: string) =>
      readdir(containedPath(dists, relative), { withFileTypes: true }).catch(() => []);
    const unusedIndex = async (dir: string, archs: Set<string>): Promise<void> => {
      for (const e of await entries(dir)) {
        const arch = CONTENTS_FILE.exec(e.name)?.[1] ?? (e.isDirectory() ? BINARY_DIR.exec(e.name)?.[1] : undefined);
        if (arch !== undefined && !archs.has(arch)) await drop(`${dir}/${e.name}`);
      }
    };

    for (const name of stale) await drop(name);
    for (const d of configured) {
      for (const e of await entries(d.codename)) {
        // snapshots/ belongs to gensnapshot, not to the current configuration.
        if (e.isDirectory() && e.name !== 'snapshots' && !d.components.has(e.name))
          await drop(`${d.codename}/${e.name}`);
      }
      await unusedIndex(d.codename, d.architectures);
      for (const component of d.components) {
        await unusedIndex(`${d.codename}/${component}`, d.architectures);
        await unusedIndex(`${d.codename}/${component}/debian-installer`, d.architectures);
      }
    }
    if (removed.length > 0) this.logger.info({ removed }, 'indices of vanished distributions removed');
  }

  /** Directory names under dists/ that look like distributions (reprepro's suite symlinks included). */
  private async distsEntries(): Promise<string[]> {
    try {
      const entries = await readdir(path.join(this.basedir, 'dists'), { withFileTypes: true });
      return entries.filter((e) => (e.isDirectory() || e.isSymbolicLink()) && TOKEN.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Keeps the by-hash files of recent Release generations and drops older ones (publish.ts), for each
   * distribution whose Release changed since the last look; the caller holds the repository's mutex.
   * Never fails the reprepro call it follows: a sweep that fails is logged and done next time.
   */
  private async sweep(): Promise<void> {
    try {
      const configured = parseDistributions(await readOrEmpty(path.join(this.basedir, 'conf', 'distributions')));
      const seen = releaseStamps.get(this.basedir) ?? new Map<string, string>();
      releaseStamps.set(this.basedir, seen);
      for (const { codename } of configured) {
        const distDir = path.join(this.basedir, 'dists', codename);
        const info = await stat(path.join(distDir, 'Release')).catch(() => null);
        const stamp = info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '';
        if (!info || seen.get(codename) === stamp) continue;
        const { removed } = await sweepByHash(distDir, path.join(this.basedir, HISTORY_DIR, `${codename}.json`));
        seen.set(codename, stamp);
        if (removed.length > 0) this.logger.debug({ distribution: codename, removed }, 'old by-hash files removed');
      }
      const names = new Set(configured.map((d) => `${d.codename}.json`));
      for (const file of await readdir(path.join(this.basedir, HISTORY_DIR)).catch(() => []))
        if (!names.has(file)) await rm(path.join(this.basedir, HISTORY_DIR, file), { force: true });
    } catch (err) {
      this.logger.warn({ err }, 'by-hash sweep failed; it runs again after the next reprepro call');
    }
  }

  /** Runs reprepro; the caller holds the repository's mutex. */
  private async exec(args: string[]): Promise<RepreproRunResult> {
    const argv = ['--basedir', this.basedir, '--waitforlock', '10', '--ignore', 'unusedarch', ...args];
    const started = performance.now();
    const result = await execa('reprepro', argv, {
      reject: false,
      stdin: 'ignore',
      env: { GNUPGHOME: this.gnupgHome, LC_ALL: 'C.UTF-8' },
    });
    const ms = Math.round(performance.now() - started);
    // Even after a failure: reprepro may have published some distributions before it failed.
    await this.sweep();
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    if (result.exitCode === 0) {
      this.logger.debug({ args, ms }, 'reprepro');
      return { stdout, stderr, ms };
    }
    const reason = errorLines(stderr) || result.shortMessage;
    const code = /lock file|Could not acquire lock/i.test(stderr) ? 'REPREPRO_LOCKED' : 'REPREPRO_FAILED';
    this.logger.warn({ args, ms, exitCode: result.exitCode, stderr }, 'reprepro failed');
    throw new RepreproError(
      code,
      `reprepro ${args.join(' ')} failed (exit ${result.exitCode ?? 'none'}): ${reason}`,
      result.exitCode,
      stderr,
    );
  }
}
