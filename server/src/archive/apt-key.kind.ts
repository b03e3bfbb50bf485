import * as openpgp from 'openpgp';
import { ConfigKind, FieldError, FieldType, type KindHandler } from '../lifecycle/config-kind.js';
import { AptKey } from './apt-key.entity.js';
import { Source } from './source.entity.js';

/** Reads one armored public key; the fingerprint is its key. */
export async function readAptKey(armored: string): Promise<openpgp.PublicKey> {
  let keys: openpgp.PublicKey[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new FieldError('armored', `not an armored OpenPGP public key (${(err as Error).message})`);
  }
  if (keys.length !== 1) throw new FieldError('armored', `expected one key, found ${keys.length}`);
  if (keys[0]!.isPrivate()) throw new FieldError('armored', 'that is a private key: give the public key');
  return keys[0]!;
}

export const aptKeyKind: KindHandler<AptKey> = {
  kind: ConfigKind.APT_KEY,
  entity: AptKey,
  lifecycle: true,
  keyOf: (k) => k.fingerprint,
  describe: (k) => `${k.fingerprint} ${k.userIds[0] ?? ''}`.trim(),
  list: (em) => em.find(AptKey, {}, { orderBy: { fingerprint: 'asc' } }),
  find: (em, key) => em.findOne(AptKey, { fingerprint: key.replace(/\s+/g, '').toUpperCase() }),
  create: async (em, key) =>
    em.create(AptKey, { fingerprint: key.replace(/\s+/g, '').toUpperCase(), armored: '' }, { persist: false }),
  fields: [
    {
      name: 'fingerprint',
      type: FieldType.STRING,
      readOnly: true,
      description: '40 hex digits',
      get: (k) => k.fingerprint,
    },
    {
      name: 'armored',
      type: FieldType.TEXT,
      description: 'The ASCII-armored public key',
      get: (k) => k.armored,
      set: async (_em, k, v) => {
        if (typeof v !== 'string') throw new FieldError('armored', 'expected the armored key as text');
        const key = await readAptKey(v);
        const fingerprint = key.getFingerprint().toUpperCase();
        if (k.fingerprint && fingerprint !== k.fingerprint)
          throw new FieldError('armored', `this key is ${fingerprint}, not ${k.fingerprint}`);
        k.fingerprint = fingerprint;
        k.armored = key.armor();
        k.userIds = key.getUserIDs();
        k.createdAt = key.getCreationTime();
        const expires = await key.getExpirationTime();
        k.expiresAt = expires instanceof Date ? expires : null;
      },
    },
    {
      name: 'userIds',
      type: FieldType.STRING_LIST,
      readOnly: true,
      description: 'Who the key says it is',
      get: (k) => k.userIds,
    },
  ],
  dependants: (em, k) => em.find(Source, { aptKeys: k }),
  check: async (k) => {
    await readAptKey(k.armored);
  },
};
