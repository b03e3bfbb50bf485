import { CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { CliError, EXIT } from './api-client.js';

/** How the CLI prints: JSON for scripts, plain text tables and lines for people. */
export interface EventRow {
  id: string;
  type: string;
  createdAt: string;
  summary: string;
  payload: Record<string, unknown>;
}

export function print(json: boolean, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human());
}

export function formatEvent(e: EventRow): string {
  return `${e.id.padStart(6)}  ${e.createdAt}  ${e.type.padEnd(14)}  ${e.summary}`;
}

export function table(head: string[], rows: unknown[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Why a command failed: what `debyard` prints on stderr and exits with. */
export interface Failure {
  message: string;
  /** Stable: the daemon's `extensions.code`, or the CLI's own (USAGE, UNREACHABLE, …). */
  code: string;
  exitCode: number;
}

/** The failure behind anything a command threw; `undefined` when it is no failure (--help, --version). */
export function describeFailure(err: unknown): Failure | undefined {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
      return undefined;
    // commander.help: a command group without its command; the help it printed lists them.
    const message = err.code === 'commander.help' ? 'no command given' : err.message.replace(/^error: /, '');
    return { message, code: 'USAGE', exitCode: EXIT.USAGE };
  }
  if (err instanceof CliError) return { message: err.message, code: err.code, exitCode: err.exitCode };
  if (err instanceof ConfigError)
    return { message: `invalid configuration: ${err.message}`, code: err.code, exitCode: EXIT.USAGE };
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string' && /^[A-Z_]+$/.test(code))
    return { message: err.message, code, exitCode: EXIT.FAILED };
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { message: `unexpected failure: ${message}`, code: 'UNEXPECTED', exitCode: EXIT.FAILED };
}

/**
 * The line `debyard` writes on stderr for a failure: `debyard: error: <message> (<CODE>)`, or with --json
 * one JSON object `{"error":{"message","code","exitCode"}}` that scripts can parse.
 */
export function formatFailure(failure: Failure, json: boolean): string {
  return json ? JSON.stringify({ error: failure }) : `debyard: error: ${failure.message} (${failure.code})`;
}
