import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * The daemon's logger, on stderr so stdout stays for the CLI. pino is bunyan-compatible, which ftp-srv
 * expects for its `log` option. DEBYARD_LOG_LEVEL sets the level (default info); DEBYARD_LOG_FORMAT is
 * `pretty` (default on a terminal) or `json` (default otherwise, for journald and log shippers).
 */
export function createLogger(level = process.env.DEBYARD_LOG_LEVEL ?? 'info'): Logger {
  const format = process.env.DEBYARD_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (format === 'pretty')
    return pino(
      { level, base: undefined },
      pretty({
        destination: 2,
        sync: true,
        colorize: process.stderr.isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        singleLine: true,
      }),
    );
  return pino({ level, base: undefined }, pino.destination(2));
}
