import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { parseDeb822 } from '../debian/deb822.js';
import type { PublishedDistribution } from '../repository/repository.kind.js';
import {
  contentHash,
  keyringChangelog,
  keyringPackageFiles,
  type KeyringPackageInput,
  type SourceFile,
} from './keyring-package.js';

const dist = (suite: string, rollback: number | null = null): PublishedDistribution => ({
  name: `bookworm-test-${suite}${rollback === null ? '' : `-rollback${rollback}`}`,
  codename: 'bookworm',
  suite,
  rollback,
  components: ['main', 'contrib'],
  architectures: ['amd64'],
  uploadable: suite === 'unstable' && rollback === null,
});

describe('the keyring package', () => {
  let dir: string;
  let input: KeyringPackageInput;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'debyard-keyring-pkg-'));
    const { publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'ed25519Legacy',
      userIDs: [{ name: 'debyard archive kr', email: 'debyard@kr.example.org' }],
      format: 'object',
    });
    input = {
      identity: 'kr',
      maintainerName: 'debyard archive kr',
      maintainerEmail: 'debyard@kr.example.org',
      key: publicKey.write(),
      keyFingerprint: publicKey.getFingerprint().toUpperCase(),
      httpUrl: 'http://kr.example.org:8066',
      ftpUrl: 'ftp://kr.example.org:8067/',
      repositories: [{ identity: 'test', distributions: [dist('stable'), dist('unstable'), dist('unstable', 0)] }],
    };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('one deb822 .sources per distribution (and deb-src), Signed-By the keyring path', () => {
    const files = keyringPackageFiles(input);
    const sources = files.filter((f) => f.path.startsWith('sources/')).map((f) => f.path);
    assert.deepEqual(sources, [
      'sources/bookworm/test_stable.sources',
      'sources/bookworm/test_stable_src.sources',
      'sources/bookworm/test_unstable-rollback0.sources',
      'sources/bookworm/test_unstable-rollback0_src.sources',
      'sources/bookworm/test_unstable.sources',
      'sources/bookworm/test_unstable_src.sources',
    ]);
    const unstable = files.find((f) => f.path === 'sources/bookworm/test_unstable.sources')!;
    const [stanza] = parseDeb822(String(unstable.content));
    assert.equal(stanza!.get('Types'), 'deb');
    assert.equal(stanza!.get('URIs'), 'http://kr.example.org:8066/repositories/test/');
    assert.equal(stanza!.get('Suites'), 'bookworm-test-unstable');
    assert.equal(stanza!.get('Components'), 'main contrib');
    assert.equal(stanza!.get('Signed-By'), '/usr/share/keyrings/kr-archive-keyring.gpg');
  });

  test('the content hash changes with the key, the URLs and the distributions, not with the changelog', () => {
    const hash = contentHash(keyringPackageFiles(input));
    assert.equal(contentHash(keyringPackageFiles({ ...input })), hash);
    assert.notEqual(contentHash(keyringPackageFiles({ ...input, httpUrl: 'http://other:8066' })), hash);
    assert.notEqual(contentHash(keyringPackageFiles({ ...input, ftpUrl: null })), hash);
    assert.notEqual(contentHash(keyringPackageFiles({ ...input, key: new Uint8Array([1, 2, 3]) })), hash);
    assert.notEqual(
      contentHash(
        keyringPackageFiles({ ...input, repositories: [{ identity: 'test', distributions: [dist('stable')] }] }),
      ),
      hash,
    );
  });

  test('builds with dpkg-buildpackage into a package with the key, the sources, the README and the dput-ng profile', async () => {
    const tree = path.join(dir, 'kr-archive-keyring');
    const write = async (f: SourceFile) => {
      await mkdir(path.dirname(path.join(tree, f.path)), { recursive: true });
      await writeFile(path.join(tree, f.path), f.content, { mode: f.mode });
    };
    for (const f of keyringPackageFiles(input)) await write(f);
    const changelog = keyringChangelog(input, {
      version: '20261122035000~test12+1',
      distribution: 'bookworm-test-unstable',
      options: ['lintian-mode=ignore'],
      date: new Date('2026-11-22T03:50:00Z'),
    });
    await writeFile(path.join(tree, 'debian/changelog'), changelog);
    const parsed = await execa('dpkg-parsechangelog', ['-l', path.join(tree, 'debian/changelog')]);
    assert.match(parsed.stdout, /^Version: 20261122035000~test12\+1$/m);
    assert.match(parsed.stdout, /^Maintainer: debyard archive kr <debyard@kr\.example\.org>$/m);

    const built = await execa('dpkg-buildpackage', ['-us', '-uc', '-b'], {
      cwd: tree,
      reject: false,
      all: true,
      env: { LC_ALL: 'C.UTF-8' },
    });
    assert.equal(built.exitCode, 0, String(built.all));
    const deb = path.join(dir, 'kr-archive-keyring_20261122035000~test12+1_all.deb');
    const listing = (await execa('dpkg-deb', ['-c', deb])).stdout;
    for (const file of [
      './usr/share/keyrings/kr-archive-keyring.gpg',
      './usr/share/kr-archive-keyring/sources/bookworm/test_unstable.sources',
      './usr/share/kr-archive-keyring/README',
      './etc/dput.d/profiles/debyard-kr.json',
    ])
      assert.ok(listing.includes(file), `${file} in\n${listing}`);
    assert.doesNotMatch(listing, /trusted\.gpg\.d/, 'no key trusted for every repository');
    const info = (await execa('dpkg-deb', ['-f', deb, 'Architecture', 'Depends'])).stdout;
    assert.match(info, /^Architecture: all$/m);

    const x = path.join(dir, 'x');
    await execa('dpkg-deb', ['-x', deb, x]);
    assert.deepEqual(
      new Uint8Array(await readFile(path.join(x, 'usr/share/keyrings/kr-archive-keyring.gpg'))),
      input.key,
    );
    assert.deepEqual(JSON.parse(await readFile(path.join(x, 'etc/dput.d/profiles/debyard-kr.json'), 'utf8')), {
      method: 'ftp',
      fqdn: 'kr.example.org:8067',
      login: 'anonymous',
      incoming: '/',
    });
    const readme = await readFile(path.join(x, 'usr/share/kr-archive-keyring/README'), 'utf8');
    assert.match(readme, /enables no repository/);
    assert.match(
      readme,
      /cp \/usr\/share\/kr-archive-keyring\/sources\/bookworm\/test_stable\.sources \/etc\/apt\/sources\.list\.d\//,
    );
    const conffiles = (await execa('dpkg-deb', ['-I', deb, 'conffiles'], { reject: false })).stdout;
    assert.match(conffiles, /\/etc\/dput\.d\/profiles\/debyard-kr\.json/);
  });
});
