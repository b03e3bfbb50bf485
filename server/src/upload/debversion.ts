/**
 * Debian version numbers (Policy §5.6.12): parsing and dpkg's ordering, in TypeScript so that the
 * upload checks need no `dpkg --compare-versions` process per comparison. The tests compare it with
 * dpkg itself.
 */

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** Empty for native versions. */
  revision: string;
}

const VERSION = /^(?:(\d+):)?([A-Za-z0-9.+~-]+)$/;
const UPSTREAM = /^[0-9][A-Za-z0-9.+~-]*$/;
const REVISION = /^[A-Za-z0-9.+~]+$/;

/** Parses a version, or says in `error` what is wrong with it. */
export function parseVersion(version: string): DebianVersion | { error: string } {
  const m = VERSION.exec(version);
  if (!m) return { error: 'only digits, letters, ".+~-" and an "<epoch>:" prefix are allowed' };
  const epoch = m[1] === undefined ? 0 : Number(m[1]);
  if (!Number.isSafeInteger(epoch)) return { error: 'the epoch is too large' };
  const rest = m[2]!;
  const dash = rest.lastIndexOf('-');
  const upstream = dash < 0 ? rest : rest.slice(0, dash);
  const revision = dash < 0 ? '' : rest.slice(dash + 1);
  if (!UPSTREAM.test(upstream)) return { error: 'the upstream version must start with a digit' };
  if (dash >= 0 && !REVISION.test(revision)) return { error: 'the Debian revision after the last "-" is empty' };
  return { epoch, upstream, revision };
}

export function isValidVersion(version: string): boolean {
  return !('error' in parseVersion(version));
}

/** dpkg's character order: "~" before everything (even the end), letters before other characters. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit and digit parts. */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(i < a.length && !isDigit(a[i]) ? a[i] : undefined);
      const bc = order(j < b.length && !isDigit(b[j]) ? b[j] : undefined);
      if (ac !== bc) return ac - bc;
      if (i < a.length && !isDigit(a[i])) i++;
      if (j < b.length && !isDigit(b[j])) j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Compares two versions as `dpkg --compare-versions` does: negative, 0 or positive. Throws for an
 * invalid version; check with {@link parseVersion} first where the input comes from outside.
 */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if ('error' in va) throw new Error(`invalid version "${a}": ${va.error}`);
  if ('error' in vb) throw new Error(`invalid version "${b}": ${vb.error}`);
  if (va.epoch !== vb.epoch) return va.epoch - vb.epoch;
  return Math.sign(compareParts(va.upstream, vb.upstream) || compareParts(va.revision, vb.revision));
}

/** The version without its epoch, as in file names (`1:1.0-1` → `1.0-1`). */
export function withoutEpoch(version: string): string {
  return version.replace(/^\d+:/, '');
}
