// Helpers for the build module's unit tests only; nothing outside a test imports this.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { BuildDepResolver, QaMode } from '../distribution/distribution.entity.js';
import type { BuildSpec } from './build-spec.js';

/** A build of hello-c in the schroot chroot of bookworm/amd64, with `overrides`. */
export function buildSpec(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return {
    dsc: '/data/builds/7/src/hello-c_1.0.dsc',
    distribution: 'bookworm-test-unstable',
    architecture: 'amd64',
    archAll: true,
    chroot: { backend: ChrootBackend.SCHROOT, name: 'debyard-bookworm-amd64' },
    extraRepositories: [],
    buildDepResolver: BuildDepResolver.APT,
    debBuildOptions: '',
    debBuildProfiles: '',
    addDepends: '',
    jobs: 2,
    lintianMode: QaMode.ERRFAIL,
    lintianExtraOptions: '',
    autopkgtestMode: QaMode.DISABLED,
    ...overrides,
  };
}

/**
 * A temporary directory with `bin/` holding the shell scripts `tools` (name → script) as
 * executables, to put first on PATH in place of the real tools. The caller removes `dir`.
 */
export async function standInTools(
  prefix: string,
  tools: Record<string, string>,
): Promise<{ dir: string; bin: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  for (const [name, script] of Object.entries(tools)) await fs.writeFile(path.join(bin, name), script, { mode: 0o755 });
  return { dir, bin };
}
