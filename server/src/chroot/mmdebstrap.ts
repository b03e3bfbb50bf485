import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { failureReason, type ChrootLog } from './chroot-log.js';

export class MmdebstrapError extends Error {
  override readonly name = 'MmdebstrapError';
  readonly code = 'MMDEBSTRAP_FAILED';
}

export interface TarballCreate {
  /** Absolute path of the `.tar.zst` to write; replaced only when mmdebstrap succeeds. */
  tarball: string;
  suite: string;
  arch: string;
  mirror: string;
  components: string[];
  keyring: Uint8Array;
}

/**
 * The pre-seeded build tarball of reference/debian-toolchain.md §1 and §2.5, made rootless (mmdebstrap's
 * unshare mode, with the daemon user's subuid range): debhelper and fakeroot inside, apt lists kept, the
 * source's keyring both for the bootstrap and inside the tarball (so `apt-get update` in a build works).
 * It is written to a temporary name next to the target and renamed over it, so sbuild never sees half a
 * tarball and a failure leaves the old one (or nothing).
 */
export async function mmdebstrapTarball(log: ChrootLog, c: TarballCreate): Promise<void> {
  const dir = path.dirname(c.tarball);
  const base = path.basename(c.tarball, '.tar.zst');
  const temp = path.join(dir, `.${base}.new.tar.zst`);
  // apt checks signatures as _apt (a subordinate uid here), which cannot enter the data directory.
  const keydir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-keyring-'));
  try {
    await fs.chmod(keydir, 0o755);
    await fs.writeFile(path.join(keydir, 'debyard-source.gpg'), c.keyring, { mode: 0o644 });
    await fs.rm(temp, { force: true });
    const r = await log.run('mmdebstrap', [
      '--mode=unshare',
      '--variant=buildd',
      `--architectures=${c.arch}`,
      `--components=${c.components.join(',')}`,
      '--include=debhelper,fakeroot',
      '--skip=cleanup/apt/lists',
      `--keyring=${keydir}`,
      `--customize-hook=copy-in ${path.join(keydir, 'debyard-source.gpg')} /etc/apt/trusted.gpg.d/`,
      c.suite,
      temp,
      c.mirror,
    ]);
    if (r.exitCode !== 0) throw new MmdebstrapError(`mmdebstrap failed: ${failureReason(r.tail)}`);
    await fs.rename(temp, c.tarball);
  } finally {
    await fs.rm(temp, { force: true });
    await fs.rm(keydir, { recursive: true, force: true });
  }
}
