/** Test scaffolding for the repository tests: a throw-away signing key in its own GNUPGHOME. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

export interface ThrowawayKey {
  gnupgHome: string;
  fingerprint: string;
  /** The binary public key, as apt's `signed-by=` and gpgv's `--keyring` take it. */
  keyring: string;
}

/** Generates an unprotected Ed25519 signing key under `dir` (about 0.2 s). */
export async function createThrowawayKey(dir: string, name = 'Test'): Promise<ThrowawayKey> {
  const gnupgHome = path.join(dir, 'gnupg');
  await mkdir(gnupgHome, { recursive: true, mode: 0o700 });
  const gpg = ['--homedir', gnupgHome, '--batch', '--no-tty'];
  await execa('gpg', [
    ...gpg,
    '--passphrase',
    '',
    '--quick-gen-key',
    `${name} <t@example.invalid>`,
    'ed25519',
    'sign',
    'never',
  ]);
  const { stdout } = await execa('gpg', [...gpg, '--with-colons', '--list-keys']);
  const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]+):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in gpg output:\n${stdout}`);
  const keyring = path.join(dir, `${name.toLowerCase()}-keyring.gpg`);
  // --output, not stdout: execa would strip a final 0x0a byte from the binary key.
  await execa('gpg', [...gpg, '--output', keyring, '--export', fingerprint]);
  return { gnupgHome, fingerprint, keyring };
}

/** Stops the gpg-agent that signing started for this GNUPGHOME. */
export async function stopGpgAgent(key: ThrowawayKey): Promise<void> {
  await execa('gpgconf', ['--homedir', key.gnupgHome, '--kill', 'gpg-agent'], { reject: false });
}
