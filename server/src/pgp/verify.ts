/**
 * Verifying OpenPGP signatures with openpgp.js: clearsigned documents (InRelease, .changes, .dsc)
 * and detached signatures (Release.gpg).
 *
 * openpgp.js alone is too lenient for files from outside, so this module adds:
 * - Framing: openpgp.js ignores text before `-----BEGIN PGP SIGNED MESSAGE-----` and after the
 *   signature block (tested: `junk` + InRelease + `Origin: Evil` verifies). Such text is rejected
 *   (TEXT_OUTSIDE_SIGNATURE), so what a caller parses is exactly what was signed.
 * - A signed body that holds another armored block (a clearsigned file signed again) is rejected
 *   (NESTED_SIGNATURE): openpgp.js would hand back the inner armored text as the payload.
 * - Several signatures (Debian's InRelease has three): the document is good when at least one
 *   signature verifies with a given key and no signature by a given key is cryptographically bad.
 *   Signatures by keys we do not have, or by keys that were expired or revoked when they signed,
 *   are ignored next to a good one. That is apt's rule (BADSIG fails, NO_PUBKEY and EXPKEYSIG only
 *   count as missing).
 *
 * Expired keys: openpgp.js checks the signing key at the signature's creation time, not now. A key
 * that has expired since is accepted for what it signed while valid (mini-buildd's "expired keys
 * accepted" for old Releases); a signature made after the key expired fails with EXPIRED_KEY.
 * The signature itself must not be expired or dated in the future at `opts.date` (default now).
 * Weak algorithms (MD5, RIPEMD-160, SHA-1 for data signatures, RSA < 2047 bits) are refused by
 * openpgp.js's defaults (WEAK_ALGORITHM).
 */
import fs from 'node:fs/promises';
import * as openpgp from 'openpgp';

export type SignatureErrorCode =
  | 'NOT_SIGNED'
  | 'MALFORMED_SIGNATURE'
  | 'TEXT_OUTSIDE_SIGNATURE'
  | 'NESTED_SIGNATURE'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'EXPIRED_KEY'
  | 'REVOKED_KEY'
  | 'EXPIRED_SIGNATURE'
  | 'FUTURE_SIGNATURE'
  | 'WEAK_ALGORITHM'
  | 'NO_KEYS';

export class SignatureError extends Error {
  override readonly name = 'SignatureError';
  /** When the signature that decided `code` says it was made, if it could be read (e.g. FUTURE_SIGNATURE). */
  readonly signedAt?: Date;
  constructor(
    readonly code: SignatureErrorCode,
    message: string,
    options?: ErrorOptions & { signedAt?: Date },
  ) {
    super(message, options);
    this.signedAt = options?.signedAt;
  }
}

export type KeyringErrorCode = 'KEYRING_UNREADABLE' | 'KEYRING_INVALID';

export class KeyringError extends Error {
  override readonly name = 'KeyringError';
  constructor(
    readonly code: KeyringErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface Signer {
  /** Long key ID (16 hex digits, upper case) of the key that made the signature; may be a subkey. */
  keyId: string;
  /** Fingerprint (upper case hex) of the primary key that keyId belongs to: what keyrings and ACLs name. */
  fingerprint: string;
  /** The primary key's first user ID, for messages. */
  userId?: string;
}

export interface VerifiedSignature {
  signer: Signer;
  signedAt: Date;
}

export interface VerifiedText extends VerifiedSignature {
  /** The signed body, with its final newline restored (gpg's output, byte for byte for LF text). */
  text: string;
}

export interface VerifyOptions {
  /** The time signatures are checked against (not expired, not in the future); default now. */
  date?: Date;
  /** Names the document in messages, e.g. a URL or file name. */
  source?: string;
}

const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';

/** Reads a keyring file: binary (several concatenated keys, as in /usr/share/keyrings) or armored. */
export async function loadKeyring(path: string): Promise<openpgp.PublicKey[]> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new KeyringError('KEYRING_UNREADABLE', `cannot read keyring ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  if (head.startsWith('-----BEGIN PGP')) return readArmoredKeys(Buffer.from(bytes).toString('utf8'), path);
  try {
    return publicOnly(await openpgp.readKeys({ binaryKeys: bytes }));
  } catch (err) {
    throw new KeyringError('KEYRING_INVALID', `${path} is not an OpenPGP keyring: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads one or more armored public keys (private keys are reduced to their public part). */
export async function readArmoredKeys(armored: string, source = 'armored key'): Promise<openpgp.PublicKey[]> {
  try {
    return publicOnly(await openpgp.readKeys({ armoredKeys: armored }));
  } catch (err) {
    throw new KeyringError('KEYRING_INVALID', `${source} holds no readable OpenPGP key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function publicOnly(keys: openpgp.Key[]): openpgp.PublicKey[] {
  return keys.map((k) => (k.isPrivate() ? k.toPublic() : (k as openpgp.PublicKey)));
}

/** Checks that `signed` is one clearsigned block and nothing else, before openpgp.js sees it. */
function checkFraming(signed: string, source: string): void {
  if (!signed.startsWith(BEGIN_SIGNED)) {
    const at = signed.indexOf(BEGIN_SIGNED);
    if (at < 0) {
      throw new SignatureError('NOT_SIGNED', `${source} is not clearsigned (no "${BEGIN_SIGNED}" line)`);
    }
    throw new SignatureError(
      'TEXT_OUTSIDE_SIGNATURE',
      `${source} has ${at} characters of unsigned text before "${BEGIN_SIGNED}"`,
    );
  }
  const lines = signed.split('\n').map((l) => l.replace(/\r$/, ''));
  const beginSig = lines.indexOf(BEGIN_SIGNATURE);
  const endSig = lines.indexOf(END_SIGNATURE);
  if (beginSig < 0 || endSig < beginSig) {
    throw new SignatureError('MALFORMED_SIGNATURE', `${source}: the signature block is missing or incomplete`);
  }
  if (lines.slice(1, beginSig).some((l) => l === BEGIN_SIGNED)) {
    throw new SignatureError('NESTED_SIGNATURE', `${source} holds a second "${BEGIN_SIGNED}"`);
  }
  const after = lines.slice(endSig + 1);
  const firstText = after.findIndex((l) => l.trim() !== '');
  if (firstText >= 0) {
    throw new SignatureError(
      'TEXT_OUTSIDE_SIGNATURE',
      `${source} has unsigned text after the signature, at line ${endSig + 2 + firstText}`,
    );
  }
}

/** Maps openpgp.js's messages (its only error detail) to our codes. */
function classify(message: string): SignatureErrorCode {
  if (/Could not find signing key/i.test(message)) return 'UNKNOWN_KEY';
  if (/revoked/i.test(message)) return 'REVOKED_KEY';
  if (/Signature is expired/i.test(message)) return 'EXPIRED_SIGNATURE';
  if (/expired/i.test(message)) return 'EXPIRED_KEY';
  if (/creation time is in the future/i.test(message)) return 'FUTURE_SIGNATURE';
  if (/insecure|too weak|weak/i.test(message)) return 'WEAK_ALGORITHM';
  return 'BAD_SIGNATURE';
}

// When no signature is good, the error reported is the most telling one.
const SEVERITY: SignatureErrorCode[] = [
  'BAD_SIGNATURE',
  'REVOKED_KEY',
  'EXPIRED_KEY',
  'EXPIRED_SIGNATURE',
  'FUTURE_SIGNATURE',
  'WEAK_ALGORITHM',
  'UNKNOWN_KEY',
];

function signerOf(keyId: openpgp.KeyID, keys: openpgp.PublicKey[]): Signer {
  const key = keys.find((k) => k.getKeys(keyId).length > 0);
  return {
    keyId: keyId.toHex().toUpperCase(),
    fingerprint: key ? key.getFingerprint().toUpperCase() : '',
    userId: key?.getUserIDs()[0],
  };
}

async function judge(
  signatures: openpgp.VerifyMessageResult['signatures'],
  keys: openpgp.PublicKey[],
  source: string,
): Promise<VerifiedSignature> {
  if (signatures.length === 0) throw new SignatureError('NOT_SIGNED', `${source} carries no signature`);
  let good: VerifiedSignature | undefined;
  const failures: { code: SignatureErrorCode; keyId: string; message: string; signedAt?: Date }[] = [];
  for (const s of signatures) {
    try {
      await s.verified;
      const packet = (await s.signature).packets[0];
      good ??= { signer: signerOf(s.keyID, keys), signedAt: packet?.created ?? new Date(0) };
    } catch (err) {
      const message = (err as Error).message;
      const created = (await s.signature.catch(() => undefined))?.packets[0]?.created ?? undefined;
      failures.push({
        code: classify(message),
        keyId: s.keyID.toHex().toUpperCase(),
        message: created ? `${message} (signed ${created.toISOString()})` : message,
        signedAt: created,
      });
    }
  }
  const bad = failures.find((f) => f.code === 'BAD_SIGNATURE');
  if (good && !bad) return good;
  const worst = bad ?? failures.sort((a, b) => SEVERITY.indexOf(a.code) - SEVERITY.indexOf(b.code))[0]!;
  const all = failures.map((f) => `${f.keyId}: ${f.message}`).join('; ');
  const hint = worst.code === 'UNKNOWN_KEY' ? ' (add the signer’s key to the keyring this check uses)' : '';
  throw new SignatureError(worst.code, `${source}: no valid signature by a known key${hint} — ${all}`, {
    signedAt: worst.signedAt,
  });
}

/**
 * Verifies a clearsigned document against `keys` and returns exactly the signed text.
 * Throws {@link SignatureError}; see the module comment for the rules.
 */
export async function verifyClearsigned(
  signed: string,
  keys: openpgp.PublicKey[],
  opts: VerifyOptions = {},
): Promise<VerifiedText> {
  const source = opts.source ?? 'document';
  checkFraming(signed, source);
  if (keys.length === 0) throw new SignatureError('NO_KEYS', `${source}: no keys to verify the signature with`);
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: signed });
  } catch (err) {
    throw new SignatureError('MALFORMED_SIGNATURE', `${source}: ${(err as Error).message}`, { cause: err });
  }
  let result: openpgp.VerifyMessageResult<string>;
  try {
    result = await openpgp.verify({ message, verificationKeys: keys, date: opts.date });
  } catch (err) {
    throw new SignatureError('MALFORMED_SIGNATURE', `${source}: ${(err as Error).message}`, { cause: err });
  }
  const text = `${result.data}\n`;
  if (/^-----BEGIN PGP/m.test(text)) {
    throw new SignatureError('NESTED_SIGNATURE', `${source}: the signed text holds another OpenPGP armored block`);
  }
  const verified = await judge(result.signatures, keys, source);
  return { text, ...verified };
}

/**
 * Who made the signatures of a clearsigned text, without verifying them: the issuer fingerprints (upper
 * case hex) the signatures name, or their long key IDs when they name no fingerprint. For messages
 * about a signature by a key debyard does not have.
 */
export async function clearsignedIssuers(signed: string): Promise<string[]> {
  const begin = signed.indexOf(BEGIN_SIGNATURE);
  const end = signed.indexOf(END_SIGNATURE, begin);
  if (begin < 0 || end < 0) return [];
  try {
    const signature = await openpgp.readSignature({
      armoredSignature: signed.slice(begin, end + END_SIGNATURE.length),
    });
    return Array.from(signature.packets, (p) =>
      p.issuerFingerprint
        ? Buffer.from(p.issuerFingerprint).toString('hex').toUpperCase()
        : p.issuerKeyID.toHex().toUpperCase(),
    );
  } catch {
    return [];
  }
}

/** Verifies a detached signature (armored or binary, e.g. Release.gpg) over `data`. */
export async function verifyDetached(
  data: Uint8Array,
  signature: string | Uint8Array,
  keys: openpgp.PublicKey[],
  opts: VerifyOptions = {},
): Promise<VerifiedSignature> {
  const source = opts.source ?? 'detached signature';
  if (keys.length === 0) throw new SignatureError('NO_KEYS', `${source}: no keys to verify the signature with`);
  let armored: string | undefined;
  if (typeof signature === 'string') armored = signature;
  else if (Buffer.from(signature.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN PGP')) {
    armored = Buffer.from(signature).toString('utf8');
  }
  if (armored !== undefined) {
    const trimmed = armored.trim();
    if (!trimmed.startsWith(BEGIN_SIGNATURE) || !trimmed.endsWith(END_SIGNATURE)) {
      throw new SignatureError(
        armored.includes(BEGIN_SIGNATURE) ? 'TEXT_OUTSIDE_SIGNATURE' : 'NOT_SIGNED',
        `${source} is not one armored "${BEGIN_SIGNATURE}" block`,
      );
    }
  }
  let sig: openpgp.Signature;
  try {
    sig =
      armored !== undefined
        ? await openpgp.readSignature({ armoredSignature: armored })
        : await openpgp.readSignature({ binarySignature: signature as Uint8Array });
  } catch (err) {
    throw new SignatureError('MALFORMED_SIGNATURE', `${source}: ${(err as Error).message}`, { cause: err });
  }
  const message = await openpgp.createMessage({ binary: data });
  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    result = await openpgp.verify({
      message,
      signature: sig,
      verificationKeys: keys,
      date: opts.date,
      format: 'binary',
    });
  } catch (err) {
    throw new SignatureError('MALFORMED_SIGNATURE', `${source}: ${(err as Error).message}`, { cause: err });
  }
  return judge(result.signatures, keys, source);
}
