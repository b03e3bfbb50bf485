import os from 'node:os';
import path from 'node:path';
import pgConnectionString from 'pg-connection-string';

export interface HostPort {
  host: string;
  port: number;
}

/** Everything `debyard serve` needs, validated. Built from flags, then DEBYARD_* environment, then defaults. */
export interface ServeConfig {
  dataDir: string;
  http: HostPort;
  ftp: HostPort;
  ftpPassivePorts: { min: number; max: number };
  ftpMaxFileSize: number;
  ftpIdleTimeoutMs: number;
  identity: string;
  /** How often objects that failed while active are checked again. */
  recheckIntervalMs: number;
  /** How often active and auto-reactivating remotes are checked. */
  remoteCheckIntervalMs: number;
  /** Unset: run the managed PostgreSQL cluster in <dataDir>/postgres. */
  databaseUrl: string | undefined;
  /** The system user the daemon drops to when started as root. */
  user: string;
}

/** Raw values as given on the command line (undefined when not given). */
export interface ServeFlags {
  dataDir?: string;
  http?: string;
  ftp?: string;
  ftpPassivePorts?: string;
  ftpMaxFileSize?: string;
  ftpIdleTimeout?: string;
  identity?: string;
  user?: string;
  recheckInterval?: string;
  remoteCheckInterval?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'INVALID_CONFIGURATION';
}

export const DEFAULT_DATA_DIR = '/var/lib/debyard';

interface Setting<T> {
  flag: string;
  env: string;
  fallback: string;
  parse(value: string, label: string): T;
}

const settings = {
  dataDir: { flag: '--data-dir', env: 'DEBYARD_DATA_DIR', fallback: DEFAULT_DATA_DIR, parse: parseDataDir },
  http: { flag: '--http', env: 'DEBYARD_HTTP', fallback: '0.0.0.0:8066', parse: parseHostPort },
  ftp: { flag: '--ftp', env: 'DEBYARD_FTP', fallback: '0.0.0.0:8067', parse: parseHostPort },
  ftpPassivePorts: {
    flag: '--ftp-passive-ports',
    env: 'DEBYARD_FTP_PASSIVE_PORTS',
    fallback: '8068-8077',
    parse: parsePortRange,
  },
  ftpMaxFileSize: {
    flag: '--ftp-max-file-size',
    env: 'DEBYARD_FTP_MAX_FILE_SIZE',
    fallback: '2G',
    parse: parseSize,
  },
  ftpIdleTimeout: {
    flag: '--ftp-idle-timeout',
    env: 'DEBYARD_FTP_IDLE_TIMEOUT',
    fallback: '300',
    parse: (v: string, label: string) => parseInteger(v, label, 1, 86_400, 'seconds, e.g. 300') * 1000,
  },
  recheckInterval: {
    flag: '--recheck-interval',
    env: 'DEBYARD_RECHECK_INTERVAL',
    fallback: '600',
    parse: (v: string, label: string) => parseInteger(v, label, 1, 86_400, 'seconds, e.g. 600') * 1000,
  },
  remoteCheckInterval: {
    flag: '--remote-check-interval',
    env: 'DEBYARD_REMOTE_CHECK_INTERVAL',
    fallback: '60',
    parse: (v: string, label: string) => parseInteger(v, label, 1, 86_400, 'seconds, e.g. 60') * 1000,
  },
  identity: { flag: '--identity', env: 'DEBYARD_IDENTITY', fallback: defaultIdentity(), parse: parseIdentity },
  user: { flag: '--user', env: 'DEBYARD_USER', fallback: 'debyard', parse: parseUserName },
} satisfies Record<keyof ServeFlags, Setting<unknown>>;

/** Describes every setting for `debyard serve --help`. */
export function describeSettings(): { flag: string; env: string; fallback: string }[] {
  return Object.values(settings).map(({ flag, env, fallback }) => ({ flag, env, fallback }));
}

/**
 * Resolves the daemon configuration. Throws a ConfigError naming the flag, the environment variable
 * and an example of a valid value.
 */
export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const value = <K extends keyof typeof settings>(key: K): ReturnType<(typeof settings)[K]['parse']> => {
    const s = settings[key];
    const given = flags[key] ?? env[s.env];
    const label = flags[key] !== undefined ? s.flag : env[s.env] !== undefined ? s.env : `${s.flag} default`;
    return s.parse((given ?? s.fallback).trim(), `${label} (${s.flag} / ${s.env})`) as ReturnType<
      (typeof settings)[K]['parse']
    >;
  };
  const config: ServeConfig = {
    dataDir: value('dataDir'),
    http: value('http'),
    ftp: value('ftp'),
    ftpPassivePorts: value('ftpPassivePorts'),
    ftpMaxFileSize: value('ftpMaxFileSize'),
    ftpIdleTimeoutMs: value('ftpIdleTimeout'),
    identity: value('identity'),
    recheckIntervalMs: value('recheckInterval'),
    remoteCheckIntervalMs: value('remoteCheckInterval'),
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    user: value('user'),
  };
  if (config.http.port !== 0 && config.http.port === config.ftp.port)
    throw new ConfigError(`--http and --ftp both use port ${config.http.port}: give them different ports`);
  const { min, max } = config.ftpPassivePorts;
  for (const p of [config.http.port, config.ftp.port])
    if (p >= min && p <= max)
      throw new ConfigError(
        `port ${p} lies inside the FTP passive range ${min}-${max} (--ftp-passive-ports / DEBYARD_FTP_PASSIVE_PORTS): move one of them`,
      );
  return config;
}

function parseDataDir(v: string, label: string): string {
  if (!v) throw new ConfigError(`${label} is empty: give a directory, e.g. ${DEFAULT_DATA_DIR}`);
  if (!path.isAbsolute(v)) throw new ConfigError(`${label}: "${v}" is not an absolute path, e.g. ${DEFAULT_DATA_DIR}`);
  if (v.includes('\0')) throw new ConfigError(`${label}: the path contains a NUL byte`);
  return path.resolve(v);
}

export function parseHostPort(v: string, label: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v);
  if (!m) throw new ConfigError(`${label}: "${v}" is not HOST:PORT, e.g. 0.0.0.0:8066, 127.0.0.1:8066 or [::]:8066`);
  const host = m[1] || m[2] || '0.0.0.0';
  return { host, port: parseInteger(m[3]!, label, 0, 65_535, 'a port number 0-65535') };
}

function parsePortRange(v: string, label: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m) throw new ConfigError(`${label}: "${v}" is not a port range MIN-MAX, e.g. 8068-8077`);
  const min = parseInteger(m[1]!, label, 1024, 65_535, 'ports 1024-65535');
  const max = parseInteger(m[2]!, label, 1024, 65_535, 'ports 1024-65535');
  if (max < min) throw new ConfigError(`${label}: "${v}" ends before it starts, e.g. 8068-8077`);
  if (max - min > 1000)
    throw new ConfigError(`${label}: "${v}" is wider than 1000 ports; keep it small, e.g. 8068-8077`);
  return { min, max };
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

function parseSize(v: string, label: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v);
  if (!m) throw new ConfigError(`${label}: "${v}" is not a size, e.g. 2G, 512M or 1048576`);
  const bytes = Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
  if (bytes < 1024) throw new ConfigError(`${label}: "${v}" is smaller than 1K`);
  return bytes;
}

function parseInteger(v: string, label: string, min: number, max: number, hint: string): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(`${label}: "${v}" is not a whole number (${hint})`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(`${label}: ${n} is out of range (${hint})`);
  return n;
}

/** The identity names the archive and its keyring package, so it must be a valid Debian package name part. */
function parseIdentity(v: string, label: string): string {
  if (!/^[a-z0-9][a-z0-9.+-]{0,62}$/.test(v))
    throw new ConfigError(
      `${label}: "${v}" is not a valid identity: use lower-case letters, digits and .+- (it becomes <identity>-archive-keyring), e.g. ${defaultIdentity()}`,
    );
  return v;
}

function parseUserName(v: string, label: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) throw new ConfigError(`${label}: "${v}" is not a user name, e.g. debyard`);
  return v;
}

function parseDatabaseUrl(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  const example = 'postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or postgres:///DATABASE?host=/run/postgresql';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v)?.[1]?.toLowerCase();
  if (!scheme)
    throw new ConfigError(`DATABASE_URL is not a URL: use ${example}, or unset it to run the managed database`);
  if (scheme !== 'postgres' && scheme !== 'postgresql')
    throw new ConfigError(`DATABASE_URL uses "${scheme}:", but only PostgreSQL is supported: ${example}`);
  let database: string | null | undefined;
  try {
    database = pgConnectionString.parse(v).database;
  } catch {
    throw new ConfigError(`DATABASE_URL cannot be parsed: use ${example}`);
  }
  if (!database) throw new ConfigError(`DATABASE_URL names no database: ${example}`);
  return v;
}

function defaultIdentity(): string {
  const host = os
    .hostname()
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9.+-]/g, '-');
  return /^[a-z0-9]/.test(host) ? host : `debyard-${host}`;
}
