import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The daemon's logger. pino is bunyan-compatible, which ftp-srv expects for its `log` option.
 * DEBYARD_LOG_LEVEL sets the level (default info); logs go to stderr so stdout stays for the CLI.
 */
export function createLogger(level = process.env.DEBYARD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}
