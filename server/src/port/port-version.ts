/**
 * The versions of no-changes ports (mini-buildd's `DebianVersion.gen_internal_port` and
 * `gen_internal_rebuild`, §6.5). Pure functions of their inputs: the rules come in with their
 * placeholders already expanded for the distributions concerned.
 */

/** A rebuild's stamp: the UTC time as `YYYYmmddHHMMSS`. */
export function rebuildStamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Whether `stamp` has the form {@link rebuildStamp} gives. */
export function isRebuildStamp(stamp: string): boolean {
  return /^\d{14}$/.test(stamp);
}

/**
 * A rebuild in the same distribution: appends `+rebuilt<stamp>`, or replaces the stamp of an earlier
 * rebuild (`1.0+rebuilt20240101000000` → `1.0+rebuilt20240202000000`).
 */
export function internalRebuildVersion(version: string, stamp: string): string {
  if (!isRebuildStamp(stamp)) throw new Error(`"${stamp}" is not a rebuild stamp (YYYYmmddHHMMSS)`);
  return subRightmost(/\+rebuilt\d{14}/g, `+rebuilt${stamp}`, version);
}

export interface PortRules {
  /** The from-distribution's mandatory version rule (a pattern, searched). */
  fromRegex: string;
  /** The to-distribution's default version, e.g. `~test11+1`. */
  toDefault: string;
  /** The to-distribution's mandatory version rule. */
  toRegex: string;
}

/**
 * A port to another distribution: the rightmost match of the from-rule is replaced by the
 * to-distribution's default version, keeping what follows it (`1.2.3-1~test12+4fud15` →
 * `1.2.3-1~test11+4fud15`); without a match the default version is appended.
 *
 * Like mini-buildd, the `+<digit>` revision of the match is carried over into the default version
 * (`~test12+4` → `~test11+4`). Unlike mini-buildd, only when the result still follows the
 * to-rule: between an experimental suite (`+0`) and a regular one (`+[1-9]`) the revision cannot
 * carry over, and the default's own is kept (`1.0~test12+1` → `1.0~test12+0` into experimental,
 * where mini-buildd would give the unchanged version back).
 */
export function internalPortVersion(version: string, rules: PortRules): string {
  const from = new RegExp(rules.fromRegex, 'g');
  const match = rightmost(from, version);
  let to = rules.toDefault;
  const revision = match?.[0] ? rightmost(/\+[0-9]/g, match[0]) : undefined;
  if (revision) {
    const carried = subRightmost(/\+[0-9]/g, revision[0], rules.toDefault);
    if (new RegExp(rules.toRegex).test(carried)) to = carried;
  }
  return match ? version.slice(0, match.index) + to + version.slice(match.index + match[0].length) : version + to;
}

/** The last match of a global pattern (an empty match at the end counts, as in Python's finditer). */
function rightmost(pattern: RegExp, text: string): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(pattern)) last = m as RegExpExecArray;
  return last;
}

/** Replaces the last match of `pattern` in `text` by `replacement`; appends it when nothing matches. */
function subRightmost(pattern: RegExp, replacement: string, text: string): string {
  const m = rightmost(pattern, text);
  return m ? text.slice(0, m.index) + replacement + text.slice(m.index + m[0].length) : text + replacement;
}
