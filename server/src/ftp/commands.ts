import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * The FTP commands a client may use: log in, pick passive mode and STOR into a flat directory.
 * Verified against curl 7.88 (-T, with and without EPSV) and Python's ftplib, which dput 1.1.3 drives
 * (USER, PASS, CWD <incoming>, TYPE I, PASV, STOR, QUIT). ALLO and ABOR are harmless and sent by lftp.
 * Everything else ftp-srv implements is refused with 502: active mode (PORT/EPRT, FTP bounce),
 * download (RETR), listing and probing (LIST, NLST, SIZE, MDTM, STAT, HELP), changing what was
 * uploaded (DELE, RNFR/RNTO, APPE, REST, STOU, SITE CHMOD), directories (MKD, RMD, CDUP) and TLS
 * (AUTH, PBSZ, PROT), which is not configured.
 */
export const ALLOWED_COMMANDS: readonly string[] = [
  'USER',
  'PASS',
  'SYST',
  'FEAT',
  'OPTS',
  'NOOP',
  'QUIT',
  'PWD',
  'XPWD',
  'CWD',
  'XCWD',
  'TYPE',
  'MODE',
  'STRU',
  'PASV',
  'EPSV',
  'ALLO',
  'ABOR',
  'STOR',
];

/** What FEAT announces: ftp-srv's own list would advertise AUTH TLS, SIZE and MDTM, which are refused. */
export const FEATURES: readonly string[] = ['EPSV', 'PASV', 'TYPE A,I', 'UTF8'];

/**
 * ftp-srv's `blacklist`: every command in its registry that is not allowed. Computed from the registry
 * so that a command added by an ftp-srv update is refused until someone allows it (the whitelist
 * option, set as well, says the same thing the other way round).
 */
export function refusedCommands(): string[] {
  const registry = require('ftp-srv/src/commands/registry.js') as Record<string, unknown>;
  return Object.keys(registry)
    .filter((directive) => !ALLOWED_COMMANDS.includes(directive))
    .sort();
}
