import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ConfigKind,
  FieldError,
  FieldType,
  enumParser,
  parseInt,
  parseStringList,
  propertyFields,
  textParser,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { Repository } from '../repository/repository.entity.js';
import { checkHooksDir } from '../hooks/hook-runner.js';
import { mergeSmtpUrl, parseSmtpUrl, redactSmtpUrl } from '../notify/smtp-url.js';
import { DaemonConfig, KeyAlgorithm } from './daemon-config.entity.js';

export const DAEMON_KEY = 'daemon';
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const KEY_ALGORITHMS = Object.values(KeyAlgorithm);
const field = propertyFields<DaemonConfig>();

/** The Daemon singleton: its key is made on prepare and kept until remove. */
export const daemonConfigKind: KindHandler<DaemonConfig> = {
  kind: ConfigKind.DAEMON,
  entity: DaemonConfig,
  lifecycle: true,
  keyOf: () => DAEMON_KEY,
  describe: (d) => `${d.identity} (${d.keyFingerprint ? `key ${d.keyFingerprint.slice(-16)}` : 'no key yet'})`,
  list: async (em) => em.find(DaemonConfig, {}),
  find: async (em, key) => (key === DAEMON_KEY ? em.findOne(DaemonConfig, 1) : null),
  create: async (em, key) => {
    if (key !== DAEMON_KEY) throw new FieldError('key', `the daemon is always called "${DAEMON_KEY}"`);
    return em.create(DaemonConfig, { identity: '', emailAddress: '' }, { persist: false });
  },
  fields: [
    field(
      'identity',
      FieldType.STRING,
      'Names the archive, its key and its keyring package',
      textParser(
        /^[a-z0-9][a-z0-9.+-]{0,62}$/,
        'lower-case letters, digits and .+- (it becomes <identity>-archive-keyring)',
        true,
      ),
    ),
    field(
      'emailAddress',
      FieldType.STRING,
      'The key’s e-mail address and the sender of notifications',
      textParser(EMAIL, 'an e-mail address', true),
    ),
    field(
      'customArchiveOrigin',
      FieldType.STRING,
      'Origin of the Release files (empty: "debyard archive <identity>")',
      textParser(/^[\x20-\x7e]{1,100}$/, 'one line of printable ASCII'),
    ),
    field('maxParallelBuilds', FieldType.INT, 'Build slots of this instance', (f, v) => parseInt(f, v, 1, 64)),
    field('keyAlgorithm', FieldType.ENUM, 'Algorithm of the instance key when it is made', enumParser(KEY_ALGORITHMS), {
      options: KEY_ALGORITHMS,
    }),
    {
      name: 'smtpUrl',
      type: FieldType.STRING,
      description:
        'SMTP smarthost for notifications: smtp://[user[:password]@]host[:port] (STARTTLS when offered) or smtps://… (TLS); empty: no mail. The password shows as ***',
      live: true,
      get: (d) => redactSmtpUrl(d.smtpUrl),
      set: (_em, d, v) => void (d.smtpUrl = mergeSmtpUrl(d.smtpUrl, parseSmtpUrl('smtpUrl', v))),
    },
    {
      ...field(
        'mailFrom',
        FieldType.STRING,
        'The From: of notifications (empty: the e-mail address above)',
        textParser(EMAIL, 'an e-mail address'),
      ),
      live: true,
    },
    {
      name: 'notifyAddresses',
      type: FieldType.STRING_LIST,
      description: 'E-mail addresses that hear about every mailed event of this instance',
      live: true,
      get: (d) => d.notifyAddresses,
      set: (_em, d, v) =>
        void (d.notifyAddresses = parseStringList('notifyAddresses', v, /^[^\s@,]+@[^\s@,]+$/, 'an e-mail address')),
    },
    {
      name: 'hooksDir',
      type: FieldType.STRING,
      description:
        'Event hooks: every executable in this directory runs for each event with the event as JSON on stdin, e.g. /etc/debyard/hooks.d; empty: none. Root should own it: it must not be writable by group or others',
      live: true,
      get: (d) => d.hooksDir,
      set: async (_em, d, v) => void (d.hooksDir = await checkHooksDir('hooksDir', v)),
    },
    {
      ...field('hookTimeout', FieldType.INT, 'Seconds an event hook may run before it is killed', (f, v) =>
        parseInt(f, v, 1, 3600),
      ),
      live: true,
    },
    {
      name: 'keyFingerprint',
      type: FieldType.STRING,
      readOnly: true,
      description: 'The instance key',
      get: (d) => d.keyFingerprint,
    },
  ],
  dependants: async (em: EntityManager) => em.find(Repository, {}),
  prepare: async (d, ctx) => {
    const existing = await ctx.keys.load();
    const key =
      existing ??
      (await ctx.keys.generate({
        identity: d.identity,
        email: d.emailAddress,
        algorithm: d.keyAlgorithm === KeyAlgorithm.RSA4096 ? 'rsa4096' : 'ed25519',
      }));
    d.keyFingerprint = key.fingerprint;
  },
  check: async (d, ctx) => {
    const key = await ctx.keys.load();
    if (!key) throw new Error('the instance key is missing: remove and prepare the daemon to make a new one');
    if (key.fingerprint !== d.keyFingerprint)
      throw new Error(`the key on disk (${key.fingerprint}) is not the configured one (${d.keyFingerprint})`);
    if (key.expiresAt && key.expiresAt < new Date())
      throw new Error(`the instance key expired on ${key.expiresAt.toISOString()}`);
  },
  remove: async (d, ctx) => {
    await ctx.keys.remove();
    d.keyFingerprint = null;
  },
};
