/**
 * The code version of a release, as mini-buildd's `dist.guess_codeversion`: the short number that
 * version rules put into package versions (`~test12+1`), so a package built for bookworm sorts below
 * the same package built for trixie.
 *
 * - Debian from wheezy (7) on: the major version only (`12.5` → `12`), since point releases are
 *   `major.minor`.
 * - Debian up to squeeze: major and minor digits (`6.0.6` → `60`, `3.1r8` → `31`, `4.0r9` → `40`),
 *   since point releases were `major.minor.point` or `major.minorrN`.
 * - Ubuntu: year and month (`24.04` → `2404`, `12.10` → `1210`).
 * - Other origins: as old Debian, major and minor digits.
 * - No usable Version (sid, testing, experimental): `~` and the codename in upper case (`~SID`),
 *   which sorts below any number.
 */
export function guessCodeversion(origin: string, version: string | undefined, codename: string): string {
  const match = /^\s*(\d+)(?:[.r](\d+))?/.exec(version ?? '');
  if (!match) return `~${codename.toUpperCase()}`;
  const major = match[1]!;
  const minor = match[2];
  if (origin === 'Debian' && Number(major) >= 7) return major;
  if (origin === 'Ubuntu') return `${major}${(minor ?? '0').padStart(2, '0')}`;
  return `${major}${minor ?? ''}`;
}
