/**
 * Looking up a few keys in large binary keyring files (Debian's developer keyrings hold about a thousand
 * keys in 28 MB: openpgp.js needs 1.5 s and 200 MB to read them all). gpg finds the ones a signature
 * names in milliseconds; it runs in a throw-away GNUPGHOME and only exports, and openpgp.js then does
 * the verifying as everywhere else.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { KeyringError } from './verify.js';

const KEY_ID = /^(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/;

/**
 * The public keys (primary key with its subkeys) that `ids` (fingerprints or long key ids, of primary
 * keys or subkeys) name in the readable files among `files`; files that do not exist are skipped.
 */
export async function keysFromKeyringFiles(files: string[], ids: string[]): Promise<openpgp.PublicKey[]> {
  const wanted = [...new Set(ids.map((id) => id.toUpperCase()))].filter((id) => KEY_ID.test(id));
  const present: string[] = [];
  for (const f of files) {
    if (!path.isAbsolute(f)) throw new KeyringError('KEYRING_UNREADABLE', `keyring ${f} is not an absolute path`);
    if (
      await fs.access(f).then(
        () => true,
        () => false,
      )
    )
      present.push(f);
  }
  if (!wanted.length || !present.length) return [];
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-keyring-'));
  try {
    const result = await execa(
      'gpg',
      [
        '--homedir',
        home,
        '--batch',
        '--no-tty',
        '--no-autostart',
        '--no-default-keyring',
        ...present.flatMap((f) => ['--keyring', f]),
        '--export',
        ...wanted,
      ],
      { reject: false, stdin: 'ignore', encoding: 'buffer', stripFinalNewline: false, env: { LC_ALL: 'C.UTF-8' } },
    );
    // gpg exits 2 with "nothing exported" when none is there: not an error here.
    const bytes = result.stdout;
    if (!bytes.length) return [];
    return (await openpgp.readKeys({ binaryKeys: bytes })).map((k) => (k.isPrivate() ? k.toPublic() : k));
  } catch (err) {
    throw new KeyringError(
      'KEYRING_INVALID',
      `cannot read keys from ${present.join(', ')}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await fs.rm(home, { recursive: true, force: true });
  }
}
