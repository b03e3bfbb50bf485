import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The source trees of the test packages (hello-c, hello-all, hello-t, fail-pkg, slow-pkg). */
export const PACKAGES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/packages');

export type FixturePackage = 'hello-c' | 'hello-all' | 'hello-t' | 'fail-pkg' | 'slow-pkg';

/**
 * Builds the source package of fixture `name` into `outDir` with `dpkg-source -b` and returns the
 * .dsc's path. It works on a copy, so the fixture tree stays clean; `version` (e.g. `1.2` or `1:1.2`)
 * and `distribution` (e.g. `bookworm-test-unstable`) replace the changelog's. Everything is made readable for others, so a daemon running as its own
 * user (debyard) can read what a root test made.
 */
export async function buildSourcePackage(
  name: FixturePackage | string,
  outDir: string,
  opts: { version?: string; distribution?: string } = {},
): Promise<string> {
  const tree = path.join(PACKAGES_DIR, name);
  const changelogPath = path.join(tree, 'debian/changelog');
  let changelog = await fs.readFile(changelogPath, 'utf8');
  const head = /^(\S+) \(([^)]+)\) ([^;]+);/.exec(changelog);
  if (!head || head[1] !== name) throw new Error(`${changelogPath} does not start with "${name} (<version>)"`);
  const version = opts.version ?? head[2]!;
  const distribution = opts.distribution ?? head[3]!;
  changelog = changelog.replace(/^(\S+) \([^)]+\) [^;]+;/, `$1 (${version}) ${distribution};`);

  await fs.mkdir(outDir, { recursive: true });
  const plainVersion = version.replace(/^\d+:/, '');
  const copy = path.join(outDir, `${name}-${plainVersion}`);
  await fs.rm(copy, { recursive: true, force: true });
  await fs.cp(tree, copy, { recursive: true });
  try {
    await fs.writeFile(path.join(copy, 'debian/changelog'), changelog);
    await execa('dpkg-source', ['-b', path.basename(copy)], { cwd: outDir, env: { LC_ALL: 'C.UTF-8' } });
  } finally {
    await fs.rm(copy, { recursive: true, force: true });
  }
  const dsc = path.join(outDir, `${name}_${plainVersion}.dsc`);
  await fs.chmod(outDir, 0o755);
  for (const file of await fs.readdir(outDir)) {
    if (file.startsWith(`${name}_${plainVersion}`)) await fs.chmod(path.join(outDir, file), 0o644);
  }
  return dsc;
}
