import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * `apt-get update` against the given sources only, with throw-away state directories, so it checks
 * exactly our repository's signature and touches nothing of the host's apt configuration.
 */
export async function aptUpdate(sourcesList: string): Promise<{ exitCode: number; output: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-apt-'));
  try {
    await fs.mkdir(path.join(dir, 'lists/partial'), { recursive: true });
    await fs.mkdir(path.join(dir, 'cache/archives/partial'), { recursive: true });
    await fs.writeFile(path.join(dir, 'sources.list'), sourcesList);
    const r = await execa(
      'apt-get',
      [
        '-o',
        `Dir::Etc::sourcelist=${dir}/sources.list`,
        '-o',
        'Dir::Etc::sourceparts=/nonexistent',
        '-o',
        `Dir::State::Lists=${dir}/lists`,
        '-o',
        `Dir::Cache=${dir}/cache`,
        '-o',
        'APT::Update::Error-Mode=any',
        // As root apt drops to _apt, which cannot enter our 0700 temporary directory.
        ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
        'update',
      ],
      { reject: false, all: true, env: { LANG: 'C.UTF-8' } },
    );
    return { exitCode: r.exitCode ?? -1, output: String(r.all) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
