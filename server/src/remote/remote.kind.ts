import {
  ConfigKind,
  FieldError,
  FieldType,
  parseInt,
  type FieldSpec,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { checkRemote, prepareRemote } from './remote-ops.js';
import { Remote } from './remote.entity.js';
import { normalizeRemoteUrl } from './wire.js';

function keyUrl(key: string): string {
  try {
    return normalizeRemoteUrl(key);
  } catch (err) {
    throw new FieldError('url', (err as Error).message);
  }
}

/** A wake command: argv as a list, or one line split at blanks (no shell). */
function parseArgv(field: string, v: unknown): string[] {
  const argv = typeof v === 'string' ? v.trim().split(/\s+/).filter(Boolean) : v;
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string' || !a || a.includes('\0')))
    throw new FieldError(
      field,
      `expected a command as a list of arguments, e.g. ["/usr/bin/wakeonlan", "00:11:22:33:44:55"]`,
    );
  if (argv.length && !argv[0]!.startsWith('/'))
    throw new FieldError(
      field,
      `"${argv[0]}" is not an absolute path: name the program in full, e.g. /usr/bin/wakeonlan`,
    );
  return argv as string[];
}

function learnt(name: keyof Remote & string, type: FieldType, description: string): FieldSpec<Remote> {
  return { name, type, description, readOnly: true, get: (r) => r[name] };
}

/**
 * A remote (mini-buildd's Remote): prepare fetches its status and key, check shakes hands both ways.
 * The wake settings are read when used, so editing them needs no new prepare.
 */
export const remoteKind: KindHandler<Remote> = {
  kind: ConfigKind.REMOTE,
  entity: Remote,
  lifecycle: true,
  keyOf: (r) => r.url,
  describe: (r) => `${r.url} (${r.identity || 'not prepared'}${r.load === null ? '' : `, load ${r.load}`})`,
  list: (em) => em.find(Remote, {}, { orderBy: { url: 'asc' } }),
  find: (em, key) => em.findOne(Remote, { url: keyUrl(key) }),
  create: async (em, key) => em.create(Remote, { url: keyUrl(key) }, { persist: false }),
  fields: [
    { name: 'url', type: FieldType.STRING, readOnly: true, description: 'http(s)://host:port', get: (r) => r.url },
    {
      name: 'wakeCommand',
      type: FieldType.STRING_LIST,
      live: true,
      description: 'Runs (argv, no shell) when it does not answer, e.g. /usr/bin/wakeonlan 00:11:22:33:44:55',
      get: (r) => r.wakeCommand,
      set: (_em, r, v) => {
        r.wakeCommand = parseArgv('wakeCommand', v);
      },
    },
    {
      name: 'wakeAttempts',
      type: FieldType.INT,
      live: true,
      description: 'How often to run the wake command before giving up',
      get: (r) => r.wakeAttempts,
      set: (_em, r, v) => {
        r.wakeAttempts = parseInt('wakeAttempts', v, 1, 20);
      },
    },
    {
      name: 'wakeIntervalSeconds',
      type: FieldType.INT,
      live: true,
      description: 'Seconds to wait after each wake command',
      get: (r) => r.wakeIntervalSeconds,
      set: (_em, r, v) => {
        r.wakeIntervalSeconds = parseInt('wakeIntervalSeconds', v, 1, 600);
      },
    },
    learnt('identity', FieldType.STRING, 'The identity its status reported'),
    learnt('fingerprint', FieldType.STRING, 'Its instance key, fetched by prepare'),
    learnt('armored', FieldType.TEXT, 'Its ASCII-armored instance key'),
    learnt('version', FieldType.STRING, 'The debyard or mini-buildd version it runs'),
    learnt('incomingUrl', FieldType.STRING, 'Its FTP incoming'),
    learnt('load', FieldType.JSON, 'Its load when last seen (-1: engine stopped)'),
    learnt('chroots', FieldType.STRING_LIST, 'Its active chroots, codename:arch'),
    learnt('builds', FieldType.INT, 'Builds queued or running there (debyard only)'),
    learnt('packages', FieldType.INT, 'Uploads being packaged there (debyard only)'),
    {
      name: 'seenAt',
      type: FieldType.STRING,
      readOnly: true,
      description: 'When it last answered',
      get: (r) => r.seenAt?.toISOString() ?? null,
    },
  ],
  // The handshake is signed with the instance key, which the daemon's prepare makes.
  dependencies: async (em) => em.find(DaemonConfig, {}),
  prepare: prepareRemote,
  check: checkRemote,
  remove: async (r) => r.forget(),
};
