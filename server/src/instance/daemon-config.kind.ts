import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseEnum,
  parseInt,
  parseString,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { Repository } from '../repository/repository.entity.js';
import { DaemonConfig, KeyAlgorithm } from './daemon-config.entity.js';

export const DAEMON_KEY = 'daemon';
const EMAIL = /^[^\s@]+@[^\s@]+$/;

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
    {
      name: 'identity',
      type: FieldType.STRING,
      description: 'Names the archive, its key and its keyring package',
      get: (d) => d.identity,
      set: (_em, d, v) => {
        d.identity = parseString('identity', v, {
          pattern: /^[a-z0-9][a-z0-9.+-]{0,62}$/,
          hint: 'lower-case letters, digits and .+- (it becomes <identity>-archive-keyring)',
        });
      },
    },
    {
      name: 'emailAddress',
      type: FieldType.STRING,
      description: 'The key’s e-mail address and the sender of notifications',
      get: (d) => d.emailAddress,
      set: (_em, d, v) => {
        d.emailAddress = parseString('emailAddress', v, { pattern: EMAIL, hint: 'an e-mail address' });
      },
    },
    {
      name: 'customArchiveOrigin',
      type: FieldType.STRING,
      description: 'Origin of the Release files (empty: "debyard archive <identity>")',
      get: (d) => d.customArchiveOrigin,
      set: (_em, d, v) => {
        d.customArchiveOrigin = parseString('customArchiveOrigin', v, {
          empty: true,
          pattern: /^[\x20-\x7e]{1,100}$/,
          hint: 'one line of printable ASCII',
        });
      },
    },
    {
      name: 'maxParallelBuilds',
      type: FieldType.INT,
      description: 'Build slots of this instance',
      get: (d) => d.maxParallelBuilds,
      set: (_em, d, v) => {
        d.maxParallelBuilds = parseInt('maxParallelBuilds', v, 1, 64);
      },
    },
    {
      name: 'keyAlgorithm',
      type: FieldType.ENUM,
      options: Object.values(KeyAlgorithm),
      description: 'Algorithm of the instance key when it is made',
      get: (d) => d.keyAlgorithm,
      set: (_em, d, v) => {
        d.keyAlgorithm = parseEnum('keyAlgorithm', v, Object.values(KeyAlgorithm));
      },
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
