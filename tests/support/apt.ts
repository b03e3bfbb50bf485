import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * An unprivileged `apt-get update` against one sources line only: throw-away state directories, the given
 * keyring as Signed-By, run as `nobody` when we are root. It checks exactly our repository's signature
 * and touches nothing of the host's apt configuration.
 */
export async function aptUpdate(
  line: (keyringPath: string) => string,
  keyring: Uint8Array,
): Promise<{ exitCode: number; output: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-apt-'));
  try {
    await fs.mkdir(path.join(dir, 'lists/partial'), { recursive: true });
    await fs.mkdir(path.join(dir, 'cache/archives/partial'), { recursive: true });
    const keyPath = path.join(dir, 'keyring.gpg');
    await fs.writeFile(keyPath, keyring);
    await fs.writeFile(path.join(dir, 'sources.list'), line(keyPath));
    const root = process.getuid?.() === 0;
    if (root) await execa('chown', ['-R', 'nobody', dir]);
    const apt = [
      'apt-get',
      ...['-o', `Dir::Etc::sourcelist=${dir}/sources.list`],
      ...['-o', 'Dir::Etc::sourceparts=/nonexistent'],
      ...['-o', `Dir::State::Lists=${dir}/lists`],
      ...['-o', `Dir::Cache=${dir}/cache`],
      ...['-o', 'APT::Update::Error-Mode=any'],
      'update',
    ];
    const r = await execa(root ? 'runuser' : apt[0]!, root ? ['-u', 'nobody', '--', ...apt] : apt.slice(1), {
      reject: false,
      all: true,
      env: { LANG: 'C.UTF-8' },
    });
    return { exitCode: r.exitCode ?? -1, output: String(r.all) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
