// What `debyard events --source --type --exit-on` does with each event, apart from the I/O so it can
// be tested: which events are shown, and which one ends the command with which exit code.
import { CliError, EXIT } from './api-client.js';
import type { EventRow } from './output.js';

/** Event types that end `--exit-on` with exit code 1; every other one ends it with 0. */
const FAILURE = /(^|_)(FAILED|REJECTED)$/;

/**
 * Parses a comma-separated list of event types (any case; `BUILD_*` for every type with that prefix)
 * against the types the daemon knows, so a typo fails at once instead of waiting forever. Without
 * `known` (a daemon that hides its schema) only the form is checked and `*` is kept as a prefix.
 */
export function parseEventTypes(option: string, value: string, known: readonly string[] | null): string[] {
  const wanted = value
    .split(',')
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
  if (!wanted.length) throw new CliError(`${option} needs at least one event type`, EXIT.USAGE);
  const types = new Set<string>();
  for (const w of wanted) {
    if (!/^[A-Z][A-Z_]*\*?$/.test(w))
      throw new CliError(`${option}: "${w}" is not an event type (such as INSTALLED or BUILD_*)`, EXIT.USAGE);
    if (!known) {
      types.add(w);
      continue;
    }
    const matches = w.endsWith('*') ? known.filter((k) => k.startsWith(w.slice(0, -1))) : known.filter((k) => k === w);
    if (!matches.length)
      throw new CliError(`${option}: "${w}" is not an event type (known: ${known.join(', ')})`, EXIT.USAGE);
    for (const m of matches) types.add(m);
  }
  return [...types];
}

export interface EventWatch {
  /** Only events whose payload names this source package. */
  source?: string;
  /** Only events of these types. */
  types?: readonly string[];
  /** Stop at the first event (shown or not) of one of these types, for `source` when given. */
  exitOn?: readonly string[];
}

function listed(types: readonly string[], type: string): boolean {
  return types.some((t) => (t.endsWith('*') ? type.startsWith(t.slice(0, -1)) : t === type));
}

function aboutSource(e: EventRow, source: string | undefined): boolean {
  return source === undefined || e.payload.source === source;
}

/** Whether `debyard events` prints `e`. */
export function shows(watch: EventWatch, e: EventRow): boolean {
  return aboutSource(e, watch.source) && (!watch.types || listed(watch.types, e.type));
}

/** The exit code `e` ends the command with, or null when it does not end it. */
export function exitCodeFor(watch: EventWatch, e: EventRow): number | null {
  if (!watch.exitOn || !listed(watch.exitOn, e.type) || !aboutSource(e, watch.source)) return null;
  return FAILURE.test(e.type) ? EXIT.FAILED : EXIT.OK;
}
