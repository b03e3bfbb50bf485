import { readAptKey } from '../archive/apt-key.kind.js';
import { Role } from '../auth/role.js';
import { User } from '../auth/user.entity.js';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseString,
  parseStringList,
  requireAll,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import * as openpgp from 'openpgp';
import { DomainError } from '../graphql/errors.js';
import { describeKey, type PublicKeyInfo } from '../pgp/instance-key.js';
import { Repository } from '../repository/repository.entity.js';
import { Uploader } from './uploader.entity.js';

/** apt's current rules for keys (bad-inputs.md C.1): RSA of at least 2048 bits, Ed25519 or Ed448. */
export function checkKeyStrength(algorithm: string): void {
  const rsa = /^rsa(\d+)$/.exec(algorithm);
  if (rsa ? Number(rsa[1]) >= 2048 : algorithm === 'ed25519' || algorithm === 'ed448') return;
  throw new DomainError(
    'KEY_WEAK',
    `the key is ${algorithm || 'of an unknown algorithm'}: use RSA of at least 2048 bits or Ed25519, as apt requires; make one with gpg --quick-gen-key "Name <address>" ed25519 sign`,
  );
}

/**
 * Reads an armored public key that is to sign uploads and says precisely why it cannot: KEY_INVALID
 * (not one public key), KEY_REVOKED, KEY_EXPIRED, KEY_WEAK. Used when a user adds a key and by every
 * prepare and check, so a key that expires later fails its check with the same code.
 */
export async function inspectUploaderKey(armored: string): Promise<{ key: openpgp.PublicKey; info: PublicKeyInfo }> {
  // openpgp.js reads the first armored block and ignores the rest: the one kept might not be the one meant.
  const blocks = armored.match(/^-----BEGIN PGP [A-Z ]+-----$/gm)?.length ?? 0;
  if (blocks > 1)
    throw new DomainError(
      'KEY_INVALID',
      `expected one public key, found ${blocks} armored blocks: add one key at a time`,
    );
  let keys: openpgp.PublicKey[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new DomainError(
      'KEY_INVALID',
      `not an armored OpenPGP public key (${(err as Error).message}): export it with "gpg --armor --export <fingerprint>"`,
    );
  }
  if (keys.length !== 1)
    throw new DomainError('KEY_INVALID', `expected one public key, found ${keys.length}: add one key at a time`);
  const key = keys[0]!;
  if (key.isPrivate())
    throw new DomainError(
      'KEY_INVALID',
      'that is a private key: give the public key (gpg --armor --export), never the secret one',
    );
  const info = describeKey(key);
  if (await key.isRevoked())
    throw new DomainError('KEY_REVOKED', `key ${info.fingerprint} is revoked: add a key that is not`);
  if (info.expiresAt && info.expiresAt < new Date())
    throw new DomainError(
      'KEY_EXPIRED',
      `key ${info.fingerprint} expired on ${info.expiresAt.toISOString()}: extend it (gpg --quick-set-expire) and add it again`,
    );
  checkKeyStrength(info.algorithm);
  return { key, info };
}

async function verifyUsable(u: Uploader): Promise<void> {
  const { info } = await inspectUploaderKey(u.armored);
  if (info.fingerprint !== u.fingerprint)
    throw new DomainError('KEY_INVALID', `the stored key is ${info.fingerprint}, not ${u.fingerprint}`);
}

/**
 * An uploader key: prepared and checked (not expired or revoked, strong enough), usable only once it is
 * active and granted repositories. Users add their own keys through their profile (issue 7); staff
 * activate them here.
 */
export const uploaderKind: KindHandler<Uploader> = {
  kind: ConfigKind.UPLOADER,
  entity: Uploader,
  lifecycle: true,
  // Keys carry people's names and addresses and say who may upload: for staff, who activate them.
  readRole: Role.STAFF,
  keyOf: (u) => u.fingerprint,
  describe: (u) => `${u.userIds[0] ?? u.fingerprint} (${u.user?.username ?? 'no user'}, ${u.algorithm || 'unchecked'})`,
  list: (em) => em.find(Uploader, {}, { populate: ['user'], orderBy: { fingerprint: 'asc' } }),
  find: (em, key) =>
    em.findOne(Uploader, { fingerprint: key.replace(/\s+/g, '').toUpperCase() }, { populate: ['user'] }),
  create: async (em, key) =>
    em.create(Uploader, { fingerprint: key.replace(/\s+/g, '').toUpperCase(), armored: '' }, { persist: false }),
  load: async (em, u) => {
    await em.populate(u, ['user', 'repositories']);
  },
  fields: [
    {
      name: 'fingerprint',
      type: FieldType.STRING,
      readOnly: true,
      description: '40 hex digits',
      get: (u) => u.fingerprint,
    },
    {
      name: 'armored',
      type: FieldType.TEXT,
      description: 'The ASCII-armored public key',
      get: (u) => u.armored,
      set: async (_em, u, v) => {
        if (typeof v !== 'string') throw new FieldError('armored', 'expected the armored key as text');
        const key = await readAptKey(v);
        const info = describeKey(key);
        if (u.fingerprint && info.fingerprint !== u.fingerprint)
          throw new FieldError('armored', `this key is ${info.fingerprint}, not ${u.fingerprint}`);
        Object.assign(u, {
          fingerprint: info.fingerprint,
          armored: key.armor(),
          userIds: info.userIds,
          algorithm: info.algorithm,
          expiresAt: info.expiresAt,
        });
      },
    },
    {
      name: 'user',
      type: FieldType.STRING,
      description: 'The user the key belongs to',
      get: (u) => u.user?.username ?? null,
      set: async (em, u, v) => {
        const username = parseString('user', v);
        const user = await em.findOne(User, { username });
        if (!user) throw new FieldError('user', `there is no user "${username}"`);
        u.user = user;
      },
    },
    {
      name: 'repositories',
      type: FieldType.REFERENCE_LIST,
      refKind: ConfigKind.REPOSITORY,
      description: 'The repositories it may upload to',
      get: (u) =>
        u.repositories
          .getItems()
          .map((r) => r.identity)
          .sort(),
      set: async (em, u, v) => {
        const ids = parseStringList('repositories', v);
        const found = await em.find(Repository, { identity: { $in: ids } });
        u.repositories.set(requireAll('repositories', 'repository', ids, found, (r) => r.identity));
      },
    },
    {
      name: 'algorithm',
      type: FieldType.STRING,
      readOnly: true,
      description: 'Key algorithm and size',
      get: (u) => u.algorithm,
    },
    {
      name: 'userIds',
      type: FieldType.STRING_LIST,
      readOnly: true,
      description: 'Who the key says it is',
      get: (u) => u.userIds,
    },
  ],
  prepare: async (u) => {
    if (!u.user) throw new Error('it belongs to no user: set `user`');
    await verifyUsable(u);
  },
  check: verifyUsable,
};
