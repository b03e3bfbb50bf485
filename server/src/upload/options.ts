/**
 * Upload options from the top changelog entry (mini-buildd §6.4):
 *
 *   * MINI_BUILDD_OPTION: lintian-mode=ignore
 *   * MINI_BUILDD_OPTION: deb-build-options[i386]=nocheck parallel=2
 *
 * Decisions where debyard differs from mini-buildd's regex `\*\s*MINI_BUILDD_OPTION:\s*([^*.]+)=([^*.]+)`:
 * the key ends at the first "=", so values may contain "=" (`parallel=2`) and "." (`foo (>= 1.0)`);
 * `DEBYARD_OPTION:` is accepted as a synonym. Only the top entry counts (older entries were for
 * earlier uploads). Unknown keys (piuparts-mode, the deprecated ignore-lintian and run-lintian
 * included), duplicates and invalid values reject the upload, each with the line it came from.
 */
import { QaMode } from '../distribution/distribution.entity.js';
import { UploadRejection } from './checks.js';

export interface ArchUploadOptions {
  lintianMode?: QaMode;
  autopkgtestMode?: QaMode;
  internalAptPriority?: number;
  debBuildOptions?: string;
  debBuildProfiles?: string;
  addDepends?: string;
}

/** Global options, and per-architecture ones that win over them on their architecture. */
export interface UploadOptions extends ArchUploadOptions {
  /** Distributions (or meta-distributions) to port to once installed. */
  autoPorts?: string[];
  perArch?: Record<string, ArchUploadOptions>;
}

const OPTION_LINE = /^\s*\*\s*(MINI_BUILDD_OPTION|DEBYARD_OPTION)\s*:\s*(.*)$/;
const KEY = /^([a-z][a-z-]*)(?:\[([^\]]*)\])?$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const CHANGELOG_HEADER = /^\S+ \([^()\s]+\)(?: \S+)+;/;
const DISTRIBUTION = /^[a-z0-9][a-z0-9.+-]*$/;
const BUILD_TOKENS = /^[A-Za-z0-9][A-Za-z0-9_.+=:,-]*(?: +[A-Za-z0-9][A-Za-z0-9_.+=:,-]*)*$/;
const RELATIONS = /^[a-z0-9][a-z0-9.+:\-~ ()<>=|,[\]!]*$/i;
const MAX_VALUE = 500;

type Parser = (value: string, fail: (why: string) => never) => unknown;

const qaMode: Parser = (value, fail) => {
  const mode = value.toUpperCase();
  if (!(Object.values(QaMode) as string[]).includes(mode)) fail('use disabled, ignore, errfail or warnfail');
  return mode as QaMode;
};

const KEYS: Record<string, { field: keyof UploadOptions; parse: Parser; perArch: boolean }> = {
  'lintian-mode': { field: 'lintianMode', parse: qaMode, perArch: true },
  'autopkgtest-mode': { field: 'autopkgtestMode', parse: qaMode, perArch: true },
  'internal-apt-priority': {
    field: 'internalAptPriority',
    perArch: true,
    parse: (value, fail) => {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || n < -32768 || n > 32767) fail('use a whole number, e.g. 500');
      return n;
    },
  },
  'auto-ports': {
    field: 'autoPorts',
    perArch: false,
    parse: (value, fail) => {
      const dists = value
        .split(',')
        .map((d) => d.trim())
        .filter((d) => d !== '');
      if (dists.length === 0) fail('list distributions, comma separated, e.g. bookworm-test-unstable');
      for (const d of dists) if (!DISTRIBUTION.test(d)) fail(`"${d}" is not a distribution name`);
      if (new Set(dists).size !== dists.length) fail('a distribution is listed twice');
      return dists;
    },
  },
  'deb-build-options': { field: 'debBuildOptions', perArch: true, parse: buildTokens('nocheck parallel=4') },
  'deb-build-profiles': { field: 'debBuildProfiles', perArch: true, parse: buildTokens('nocheck nodoc') },
  'add-depends': {
    field: 'addDepends',
    perArch: true,
    parse: (value, fail) => {
      if (!RELATIONS.test(value) || value.split(',').some((r) => r.trim() === ''))
        fail('use package relations, comma separated, e.g. "libfoo-dev (>= 1.2), bar"');
      return value;
    },
  },
};

const UNSUPPORTED: Record<string, string> = {
  'piuparts-mode': 'debyard does not run piuparts',
  'ignore-lintian': 'it is deprecated: use lintian-mode=ignore',
  'run-lintian': 'it is deprecated: use lintian-mode=disabled or lintian-mode=errfail',
};

function buildTokens(example: string): Parser {
  return (value, fail) => {
    if (!BUILD_TOKENS.test(value)) fail(`use space-separated words, e.g. "${example}"`);
    return value;
  };
}

/** The top entry of a Changes field: from its first line up to the next entry's header line. */
export function topChangelogEntry(changes: string): string[] {
  const lines = changes.split('\n');
  const start = lines.findIndex((l) => l.trim() !== '');
  if (start < 0) return [];
  const next = lines.findIndex((l, i) => i > start && CHANGELOG_HEADER.test(l));
  return lines.slice(start, next < 0 ? undefined : next);
}

/**
 * Reads the upload options from the `Changes:` field of a .changes; throws {@link UploadRejection}
 * (OPTION_UNKNOWN, OPTION_DUPLICATE, OPTION_INVALID) naming the line.
 */
export function parseUploadOptions(changesText: string): UploadOptions {
  const options: UploadOptions = {};
  const seen = new Set<string>();
  for (const line of topChangelogEntry(changesText)) {
    const m = OPTION_LINE.exec(line);
    if (!m) continue;
    const text = m[2]!.trim();
    const shown = `"${m[1]}: ${text}"`;
    const eq = text.indexOf('=');
    if (eq < 0) throw new UploadRejection('OPTION_INVALID', `upload option ${shown} has no value: write <key>=<value>`);
    const keyText = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    const k = KEY.exec(keyText);
    const spec = k ? KEYS[k[1]!] : undefined;
    if (!k || !spec) {
      const name = k?.[1] ?? keyText;
      const why = UNSUPPORTED[name] ?? `known options: ${Object.keys(KEYS).join(', ')} (with [<arch>] variants)`;
      throw new UploadRejection('OPTION_UNKNOWN', `unknown upload option "${name}" in ${shown}: ${why}`);
    }
    const [, key, arch] = k;
    if (arch !== undefined && !ARCH.test(arch))
      throw new UploadRejection('OPTION_INVALID', `upload option ${shown}: "${arch}" is not an architecture name`);
    if (arch !== undefined && !spec.perArch)
      throw new UploadRejection('OPTION_INVALID', `upload option ${shown}: ${key} has no per-architecture form`);
    const id = arch === undefined ? key! : `${key}[${arch}]`;
    if (seen.has(id))
      throw new UploadRejection('OPTION_DUPLICATE', `upload option ${id} is given twice in the top changelog entry`);
    seen.add(id);
    const fail = (why: string): never => {
      throw new UploadRejection('OPTION_INVALID', `upload option ${shown}: invalid value "${value}": ${why}`);
    };
    if (value === '') fail('it is empty');
    if (value.length > MAX_VALUE) fail(`it is longer than ${MAX_VALUE} characters`);
    const parsed = spec.parse(value, fail);
    const target = arch === undefined ? options : ((options.perArch ??= {})[arch] ??= {});
    (target as Record<string, unknown>)[spec.field] = parsed;
  }
  return options;
}
