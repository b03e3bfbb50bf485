// Every rejection of the upload checks, with real source packages, .changes and debsign signatures,
// against a configuration given as data (the database layer has its own test in upload-checks-db).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readArmoredKeys } from '@debyard/server/dist/pgp/verify.js';
import {
  checkSpooledUpload,
  UploadRejection,
  type RepositoryConfig,
  type UploadEnvironment,
  type UploadKey,
} from '@debyard/server/dist/upload/checks.js';
import { UploadState } from '@debyard/server/dist/upload/upload.entity.js';
import { QaMode } from '@debyard/server/dist/distribution/distribution.entity.js';
import { writeTarball } from '@debyard/server/dist/upload/test-support.js';
import { execa } from 'execa';
import {
  fakedSystemTime,
  generateUploaderKey,
  makeUpload,
  type MadeUpload,
  type UploaderKey,
} from '../support/uploads.js';

const DAY = 24 * 3600 * 1000;

function repository(identity: string, overrides: Partial<RepositoryConfig> = {}): RepositoryConfig {
  return {
    identity,
    inactive: null,
    allowUnauthenticatedUploads: false,
    metaDistributions: {},
    suites: [
      { name: 'stable', uploadable: false, experimental: false },
      { name: 'testing', uploadable: false, experimental: false },
      { name: 'unstable', uploadable: true, experimental: false },
      { name: 'experimental', uploadable: true, experimental: true },
    ],
    distributions: [{ codename: 'bookworm', codeversion: '12', inactive: null }],
    mandatoryVersionRegex: '~%IDENTITY%%CODEVERSION%\\+[1-9]',
    experimentalMandatoryVersionRegex: '~%IDENTITY%%CODEVERSION%\\+0',
    defaultVersion: '~%IDENTITY%%CODEVERSION%+1',
    experimentalDefaultVersion: '~%IDENTITY%%CODEVERSION%+0',
    ...overrides,
  };
}

/** A configuration with repositories test (signed only) and sandbox (unsigned welcome). */
class FakeEnvironment implements UploadEnvironment {
  repositories = [
    repository('test', { metaDistributions: { unstable: 'bookworm-unstable' } }),
    repository('sandbox', { allowUnauthenticatedUploads: true }),
    repository('other'),
  ];
  keys: UploadKey[] = [];
  earlier: { id: number; state: UploadState; receivedAt: Date; sha256: string; signedBy: string | null }[] = [];
  installedRows = new Map<string, { version: string; distribution: string }[]>();
  pool = new Map<string, string>();

  async uploadsWithSha256(sha256: string) {
    return this.earlier.filter((u) => u.sha256 === sha256);
  }
  async installed(repository: string, source: string) {
    return this.installedRows.get(`${repository}/${source}`) ?? [];
  }
  async poolFile(repository: string, source: string, name: string) {
    return this.pool.get(`${repository}/${source}/${name}`) ?? null;
  }
}

async function keyEntry(key: UploaderKey, owner: string, repositories: string[], inactive: string | null = null) {
  const [parsed] = await readArmoredKeys(key.armored);
  return { fingerprint: key.fingerprint, owner, key: parsed!, repositories, inactive };
}

function spooled(made: MadeUpload, id = 100) {
  return { id, spoolDir: made.dir, changesName: made.changesName, changesSha256: made.changesSha256 };
}

async function rejected(env: UploadEnvironment, made: MadeUpload, code: string, message: RegExp): Promise<void> {
  await assert.rejects(checkSpooledUpload(env, spooled(made)), (err: unknown) => {
    assert.ok(err instanceof UploadRejection, `expected an UploadRejection, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('upload checks (real .changes, fake configuration)', () => {
  let alice: UploaderKey;
  let stranger: UploaderKey;
  let dormant: UploaderKey;
  let elsewhere: UploaderKey;
  let ancient: UploaderKey;
  let rsa: UploaderKey;
  const dirs: string[] = [];
  let env: FakeEnvironment;

  const upload = async (opts: Parameters<typeof makeUpload>[1] = {}, pkg = 'hello-c') => {
    const made = await makeUpload(pkg, {
      version: '1.0~test12+1',
      distribution: 'bookworm-test-unstable',
      sign: alice,
      ...opts,
    });
    dirs.push(made.dir);
    return made;
  };

  before(async () => {
    [alice, stranger, dormant, elsewhere, ancient, rsa] = await Promise.all([
      generateUploaderKey({ name: 'Alice' }),
      generateUploaderKey({ name: 'Stranger' }),
      generateUploaderKey({ name: 'Dormant' }),
      generateUploaderKey({ name: 'Elsewhere' }),
      generateUploaderKey({ name: 'Ancient', createdAt: new Date(Date.now() - 400 * DAY) }),
      generateUploaderKey({ name: 'Rsa', algorithm: 'rsa2048' }),
    ]);
  });
  after(async () => {
    await Promise.all([alice, stranger, dormant, elsewhere, ancient, rsa].map((k) => k?.dispose()));
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  const fresh = async () => {
    env = new FakeEnvironment();
    env.keys = [
      await keyEntry(alice, 'alice', ['test', 'sandbox']),
      await keyEntry(dormant, 'dormant', ['test'], 'the uploader key is prepared, not active'),
      await keyEntry(elsewhere, 'elsewhere', ['other']),
      await keyEntry(ancient, 'ancient', ['test']),
      await keyEntry(rsa, 'rsa', ['test']),
    ];
    return env;
  };

  it('accepts a signed source upload and says what it is', async () => {
    const made = await upload({ changesExtra: ['MINI_BUILDD_OPTION: lintian-mode=ignore'] });
    const checked = await checkSpooledUpload(await fresh(), spooled(made));
    assert.equal(checked.source, 'hello-c');
    assert.equal(checked.version, '1.0~test12+1');
    assert.equal(checked.targetDistribution, 'bookworm-test-unstable');
    assert.equal(checked.repository, 'test');
    assert.equal(checked.codename, 'bookworm');
    assert.equal(checked.suite, 'unstable');
    assert.equal(checked.experimental, false);
    assert.deepEqual(checked.signedBy, { fingerprint: alice.fingerprint, owner: 'alice' });
    assert.match(checked.changedBy, /Debyard Tests/);
    assert.equal(checked.dsc, made.dsc);
    assert.deepEqual(checked.dscArchitectures, ['any']);
    assert.deepEqual(checked.files.map((f) => f.name).sort(), made.files.sort());
    assert.deepEqual(checked.options, { lintianMode: QaMode.IGNORE });
    assert.deepEqual(checked.fromPool, []);
  });

  it('maps a meta-distribution to its repository', async () => {
    const checked = await checkSpooledUpload(await fresh(), spooled(await upload({ distribution: 'unstable' })));
    assert.equal(checked.distribution, 'unstable');
    assert.equal(checked.targetDistribution, 'bookworm-test-unstable');
  });

  it('accepts experimental uploads with the experimental rule', async () => {
    const made = await upload({ version: '1.0~test12+0', distribution: 'bookworm-test-experimental' });
    const checked = await checkSpooledUpload(await fresh(), spooled(made));
    assert.equal(checked.experimental, true);
  });

  describe('parse', () => {
    it('CHANGES_INVALID: a .changes changed after it was received', async () => {
      const made = await upload();
      await rejected(await fresh(), { ...made, changesSha256: '0'.repeat(64) }, 'CHANGES_INVALID', /changed after/);
    });
    it('CHANGES_INVALID: not deb822', async () => {
      const made = await upload({
        sign: undefined,
        edit: (t) => t.replace('Urgency: medium\n', 'Urgency: medium\r\n'),
      });
      await rejected(await fresh(), made, 'CHANGES_INVALID', /CRLF/);
    });
    it('CHANGES_INVALID: several distributions', async () => {
      const made = await upload({ edit: (t) => t.replace(/^Distribution: .*$/m, 'Distribution: a-b-c d-e-f') });
      await rejected(await fresh(), made, 'CHANGES_INVALID', /names several distributions/);
    });
    it('FIELD_MISSING: Changed-By hints at an unfinalised changelog', async () => {
      const made = await upload({ edit: (t) => t.replace(/^Changed-By: .*\n/m, '') });
      await rejected(
        await fresh(),
        made,
        'FIELD_MISSING',
        /Changed-By is missing: was the changelog entry finalised \(dch -r\)\?/,
      );
    });
    it('FIELD_MISSING: Checksums-Sha256', async () => {
      const made = await upload({ edit: (t) => t.replace(/^Checksums-Sha256:\n( .*\n)+/m, '') });
      await rejected(await fresh(), made, 'FIELD_MISSING', /Checksums-Sha256 is missing/);
    });
    it('NOT_SOURCE: binary architectures', async () => {
      const made = await upload({ edit: (t) => t.replace(/^Architecture: source$/m, 'Architecture: source amd64') });
      await rejected(
        await fresh(),
        made,
        'NOT_SOURCE',
        /Architecture "source amd64": debyard takes source-only uploads/,
      );
    });
  });

  describe('file names and files', () => {
    it('FILE_NAME: the .changes is not named after Source and Version', async () => {
      const made = await upload();
      await fs.rename(made.changes, path.join(made.dir, 'other_1.0_source.changes'));
      await rejected(
        await fresh(),
        { ...made, changesName: 'other_1.0_source.changes' },
        'FILE_NAME',
        /does not match Source and Version/,
      );
    });
    it('FILE_NAME: a listed file with an unsafe name', async () => {
      const made = await upload({ edit: (t) => t.replaceAll('hello-c_1.0~test12+1.tar.xz', '.hello.tar.xz') });
      await rejected(await fresh(), made, 'FILE_NAME', /"\.hello\.tar\.xz" is not a safe file name/);
    });
    it('FILE_MISSING: a listed file was not uploaded', async () => {
      const made = await upload();
      await fs.rm(path.join(made.dir, 'hello-c_1.0~test12+1.tar.xz'));
      await rejected(
        await fresh(),
        made,
        'FILE_MISSING',
        /hello-c_1\.0~test12\+1\.tar\.xz is listed in .* but was not uploaded/,
      );
    });
    it('FILE_SIZE: a file of the wrong size', async () => {
      const made = await upload();
      await fs.appendFile(path.join(made.dir, 'hello-c_1.0~test12+1.tar.xz'), 'x');
      await rejected(
        await fresh(),
        made,
        'FILE_SIZE',
        /hello-c_1\.0~test12\+1\.tar\.xz has \d+ bytes, but .* says \d+/,
      );
    });
    it('CHECKSUM_MISMATCH: a file with other content', async () => {
      const made = await upload();
      const file = path.join(made.dir, 'hello-c_1.0~test12+1.tar.xz');
      const bytes = await fs.readFile(file);
      bytes[bytes.length - 1] ^= 0xff;
      await fs.writeFile(file, bytes);
      await rejected(
        await fresh(),
        made,
        'CHECKSUM_MISMATCH',
        /hello-c_1\.0~test12\+1\.tar\.xz has SHA-256 [0-9a-f]{64}, but/,
      );
    });
  });

  describe('signature', () => {
    it('SIGNATURE_MISSING: unsigned into a repository that takes only signed uploads', async () => {
      const made = await upload({ sign: undefined });
      await rejected(
        await fresh(),
        made,
        'SIGNATURE_MISSING',
        /is not signed and repository test takes only signed uploads: sign it with "debsign -k/,
      );
    });
    it('SIGNATURE_INVALID: signed by a key nobody registered', async () => {
      const made = await upload({ sign: stranger });
      await rejected(
        await fresh(),
        made,
        'SIGNATURE_INVALID',
        /no valid signature by a known key.*add it to your uploader profile/,
      );
    });
    it('SIGNATURE_INVALID: changed after signing', async () => {
      const made = await upload();
      const text = await fs.readFile(made.changes, 'utf8');
      await fs.writeFile(made.changes, text.replace('Urgency: medium', 'Urgency: high'));
      const changesSha256 = (await import('node:crypto'))
        .createHash('sha256')
        .update(await fs.readFile(made.changes))
        .digest('hex');
      await rejected(await fresh(), { ...made, changesSha256 }, 'SIGNATURE_INVALID', /changed after it was signed/);
    });
    it('KEY_NOT_ALLOWED: an uploader key that is not active', async () => {
      const made = await upload({ sign: dormant });
      await rejected(
        await fresh(),
        made,
        'KEY_NOT_ALLOWED',
        new RegExp(
          `key ${dormant.fingerprint} may not upload to repository test \\(dormant: the uploader key is prepared, not active\\)`,
        ),
      );
    });
    it('KEY_NOT_ALLOWED: a key for another repository', async () => {
      const made = await upload({ sign: elsewhere });
      await rejected(
        await fresh(),
        made,
        'KEY_NOT_ALLOWED',
        /may not upload to repository test \(elsewhere may upload to other\)/,
      );
    });
    it('the instance key may upload anywhere', async () => {
      const made = await upload({ sign: stranger });
      const e = await fresh();
      e.keys.push({ ...(await keyEntry(stranger, 'the instance key', [])), repositories: 'all' });
      const checked = await checkSpooledUpload(e, spooled(made));
      assert.deepEqual(checked.signedBy, { fingerprint: stranger.fingerprint, owner: 'the instance key' });
    });
    it('REPLAY: the same signed .changes again, unless the earlier one was rejected before its signature was accepted', async () => {
      const made = await upload();
      const e = await fresh();
      const sha256 = made.changesSha256;
      e.earlier.push({ id: 7, state: UploadState.REJECTED, receivedAt: new Date(), sha256, signedBy: null });
      e.earlier.push({ id: 100, state: UploadState.RECEIVED, receivedAt: new Date(), sha256, signedBy: null });
      // Received after this one: of two copies checked at once, the first wins.
      e.earlier.push({ id: 101, state: UploadState.PACKAGING, receivedAt: new Date(), sha256, signedBy: null });
      await checkSpooledUpload(e, spooled(made));
      e.earlier.push({
        id: 8,
        state: UploadState.INSTALLED,
        receivedAt: new Date('2026-01-02T03:04:05Z'),
        sha256,
        signedBy: alice.fingerprint,
      });
      await rejected(e, made, 'REPLAY', /was already uploaded as upload 8 on 2026-01-02T03:04:05.000Z/);
    });
    it('REPLAY: an earlier copy rejected after its signature was accepted counts (dak remembers it in all cases)', async () => {
      const made = await upload();
      const e = await fresh();
      e.earlier.push({
        id: 9,
        state: UploadState.REJECTED,
        receivedAt: new Date('2026-01-02T03:04:05Z'),
        sha256: made.changesSha256,
        signedBy: alice.fingerprint,
      });
      await rejected(
        e,
        made,
        'REPLAY',
        /was already uploaded as upload 9 on 2026-01-02T03:04:05\.000Z \(this signed \.changes has been seen before, and was rejected\): sign it again \(debsign\) to send it once more/,
      );
    });
    it('a rejection after the signature step names the signer; one before it does not', async () => {
      const late = await upload({ distribution: 'bookworm-test-testing' });
      await assert.rejects(checkSpooledUpload(await fresh(), spooled(late)), (err: unknown) => {
        assert.ok(err instanceof UploadRejection && err.code === 'SUITE_NOT_UPLOADABLE', String(err));
        assert.deepEqual(err.signedBy, { fingerprint: alice.fingerprint, owner: 'alice' });
        return true;
      });
      const early = await upload({ sign: elsewhere });
      await assert.rejects(checkSpooledUpload(await fresh(), spooled(early)), (err: unknown) => {
        assert.ok(err instanceof UploadRejection && err.code === 'KEY_NOT_ALLOWED', String(err));
        assert.equal(err.signedBy, undefined);
        return true;
      });
    });
  });

  describe('repositories that take unsigned uploads', () => {
    it('accept an unsigned upload', async () => {
      const made = await upload({
        sign: undefined,
        distribution: 'bookworm-sandbox-unstable',
        version: '1.0~sandbox12+1',
      });
      const checked = await checkSpooledUpload(await fresh(), spooled(made));
      assert.equal(checked.signedBy, null);
      assert.equal(checked.repository, 'sandbox');
    });
    it('accept a signature by an unknown key as unsigned, and record a known signer', async () => {
      const unknown = await upload({
        sign: stranger,
        distribution: 'bookworm-sandbox-unstable',
        version: '1.0~sandbox12+1',
      });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(unknown))).signedBy, null);
      const known = await upload({ distribution: 'bookworm-sandbox-unstable', version: '1.0~sandbox12+2' });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(known))).signedBy?.owner, 'alice');
    });
    it('still reject a bad signature', async () => {
      const made = await upload({ distribution: 'bookworm-sandbox-unstable', version: '1.0~sandbox12+1' });
      const text = await fs.readFile(made.changes, 'utf8');
      await fs.writeFile(made.changes, text.replace('Urgency: medium', 'Urgency: high'));
      const changesSha256 = (await import('node:crypto'))
        .createHash('sha256')
        .update(await fs.readFile(made.changes))
        .digest('hex');
      await rejected(await fresh(), { ...made, changesSha256 }, 'SIGNATURE_INVALID', /changed after it was signed/);
    });
  });

  describe('distribution', () => {
    const unknown: [string, RegExp][] = [
      [
        'sid',
        /"sid" is not a distribution: use <codename>-<repo>-<suite>, e\.g\. bookworm-test-unstable, or a meta-distribution \(unstable\)/,
      ],
      ['bookworm-nope-unstable', /there is no repository "nope" \(repositories: test, sandbox, other\)/],
      ['trixie-test-unstable', /repository test does not build for trixie \(it builds for bookworm\)/],
      ['bookworm-test-foo', /repository test has no suite foo \(suites: stable, testing, unstable, experimental\)/],
    ];
    for (const [distribution, message] of unknown)
      it(`DISTRIBUTION_UNKNOWN: ${distribution}`, async () => {
        await rejected(await fresh(), await upload({ distribution }), 'DISTRIBUTION_UNKNOWN', message);
      });
    it('DISTRIBUTION_INACTIVE: the repository is not active', async () => {
      const e = await fresh();
      e.repositories[0]!.inactive = 'is prepared, not active';
      await rejected(
        e,
        await upload(),
        'DISTRIBUTION_INACTIVE',
        /bookworm-test-unstable: repository test is prepared, not active/,
      );
    });
    it('DISTRIBUTION_INACTIVE: a source of the distribution is not active', async () => {
      const e = await fresh();
      e.repositories[0]!.distributions[0]!.inactive = 'uses source Debian:bookworm, which is prepared';
      await rejected(e, await upload(), 'DISTRIBUTION_INACTIVE', /distribution bookworm uses source Debian:bookworm/);
    });
    it('SUITE_NOT_UPLOADABLE: a migration target', async () => {
      const made = await upload({ distribution: 'bookworm-test-testing' });
      await rejected(
        await fresh(),
        made,
        'SUITE_NOT_UPLOADABLE',
        /bookworm-test-testing takes no uploads .*: upload to bookworm-test-unstable or bookworm-test-experimental/,
      );
    });
    it('SUITE_NOT_UPLOADABLE: a rollback', async () => {
      const made = await upload({ distribution: 'bookworm-test-unstable-rollback0' });
      await rejected(await fresh(), made, 'SUITE_NOT_UPLOADABLE', /is a rollback distribution/);
    });
  });

  describe('version', () => {
    it('VERSION_RULE: a version without the suffix', async () => {
      const made = await upload({ version: '1.0' });
      await rejected(
        await fresh(),
        made,
        'VERSION_RULE',
        /version 1\.0 does not match the rule for bookworm-test-unstable: ~test12\\\+\[1-9\] \(e\.g\. 1\.0~test12\+1/,
      );
    });
    it('VERSION_RULE: experimental suites want +0', async () => {
      const made = await upload({ distribution: 'bookworm-test-experimental' });
      await rejected(await fresh(), made, 'VERSION_RULE', /rule for bookworm-test-experimental: ~test12\\\+0/);
    });
    it('VERSION_EXISTS: the version is in another suite', async () => {
      const e = await fresh();
      e.installedRows.set('test/hello-c', [
        { version: '1.0~test12+1', distribution: 'bookworm-test-unstable-rollback0' },
        { version: '1.0~test12+1', distribution: 'bookworm-test-testing' },
      ]);
      await rejected(
        e,
        await upload(),
        'VERSION_EXISTS',
        /hello-c 1\.0~test12\+1 is already in bookworm-test-testing: raise the version/,
      );
    });
    it('VERSION_LOWER: a higher version is in the target', async () => {
      const e = await fresh();
      e.installedRows.set('test/hello-c', [{ version: '1.0~test12+2', distribution: 'bookworm-test-unstable' }]);
      await rejected(
        e,
        await upload(),
        'VERSION_LOWER',
        /1\.0~test12\+1 is lower than 1\.0~test12\+2, which is in bookworm-test-unstable/,
      );
    });
    it('only a rollback holding the version does not count', async () => {
      const e = await fresh();
      e.installedRows.set('test/hello-c', [
        { version: '1.0~test12+1', distribution: 'bookworm-test-unstable-rollback0' },
        { version: '0.9~test12+1', distribution: 'bookworm-test-unstable' },
      ]);
      await checkSpooledUpload(e, spooled(await upload()));
    });
  });

  describe('.dsc files', () => {
    let first: MadeUpload;
    let orig: string;
    before(async () => {
      first = await upload({ version: '1.0-1~test12+1' });
      orig = path.join(first.dir, 'hello-c_1.0.orig.tar.gz');
    });

    it('a first upload of a quilt package carries its orig tarball', async () => {
      assert.ok(first.files.includes('hello-c_1.0.orig.tar.gz'));
      const checked = await checkSpooledUpload(await fresh(), spooled(first));
      assert.deepEqual(checked.fromPool, []);
    });
    it('DSC_FILE_MISSING: the orig tarball is neither uploaded nor in the pool', async () => {
      const made = await upload({ version: '1.0-2~test12+1', include: 'no-orig', orig });
      assert.ok(!made.files.includes('hello-c_1.0.orig.tar.gz'));
      await fs.rm(path.join(made.dir, 'hello-c_1.0.orig.tar.gz'));
      await rejected(
        await fresh(),
        made,
        'DSC_FILE_MISSING',
        /hello-c_1\.0\.orig\.tar\.gz, listed in hello-c_1\.0-2~test12\+1\.dsc, is neither in the upload nor in repository test's pool: include it \(dpkg-buildpackage -S -sa\)/,
      );
    });
    it('takes the orig tarball from the pool when it is the same', async () => {
      const made = await upload({ version: '1.0-2~test12+1', include: 'no-orig', orig });
      await fs.rm(path.join(made.dir, 'hello-c_1.0.orig.tar.gz'));
      const e = await fresh();
      e.pool.set('test/hello-c/hello-c_1.0.orig.tar.gz', orig);
      const checked = await checkSpooledUpload(e, spooled(made));
      assert.deepEqual(checked.fromPool, [{ name: 'hello-c_1.0.orig.tar.gz', path: orig }]);
    });
    it('CHECKSUM_MISMATCH: an orig tarball that differs from the pool’s', async () => {
      const made = await upload({ version: '1.0-2~test12+1', include: 'no-orig', orig });
      const other = path.join(made.dir, 'pool-copy.orig.tar.gz');
      await fs.writeFile(other, 'not the same tarball');
      const e = await fresh();
      e.pool.set('test/hello-c/hello-c_1.0.orig.tar.gz', other);
      await rejected(
        e,
        made,
        'CHECKSUM_MISMATCH',
        /hello-c_1\.0\.orig\.tar\.gz differs from the file of that name already in repository test's pool/,
      );
    });
  });

  describe('upload options', () => {
    it('OPTION_UNKNOWN', async () => {
      const made = await upload({ changesExtra: ['MINI_BUILDD_OPTION: lintian=ignore'] });
      await rejected(await fresh(), made, 'OPTION_UNKNOWN', /unknown upload option "lintian"/);
    });
    it('OPTION_DUPLICATE', async () => {
      const made = await upload({
        changesExtra: ['MINI_BUILDD_OPTION: auto-ports=bookworm-test-unstable', 'MINI_BUILDD_OPTION: auto-ports=x-y-z'],
      });
      await rejected(await fresh(), made, 'OPTION_DUPLICATE', /auto-ports is given twice/);
    });
    it('OPTION_INVALID', async () => {
      const made = await upload({ changesExtra: ['MINI_BUILDD_OPTION: internal-apt-priority=high'] });
      await rejected(await fresh(), made, 'OPTION_INVALID', /internal-apt-priority=high.*use a whole number/);
    });
    it('OPTION_INVALID: auto-ports to a distribution that takes no uploads, with why', async () => {
      for (const [target, why] of [
        ['bookworm-nosuch-unstable', /cannot port to bookworm-nosuch-unstable: .*no repository "nosuch"/],
        ['bookworm-test-testing', /cannot port to bookworm-test-testing: .*takes no uploads/],
        ['bookworm-test-unstable-rollback0', /cannot port to bookworm-test-unstable-rollback0: .*rollback/],
      ] as const) {
        const made = await upload({ changesExtra: [`MINI_BUILDD_OPTION: auto-ports=${target}`] });
        await rejected(await fresh(), made, 'OPTION_INVALID', why);
      }
      const good = await upload({ changesExtra: ['MINI_BUILDD_OPTION: auto-ports=bookworm-test-experimental'] });
      const checked = await checkSpooledUpload(await fresh(), spooled(good));
      assert.deepEqual(checked.options.autoPorts, ['bookworm-test-experimental']);
    });
  });

  describe('people, bugs and line endings', () => {
    it('CHANGES_INVALID: CRLF line endings, also in a signed .changes, with the line', async () => {
      const made = await upload({ editSigned: (b) => Buffer.from(b.toString('utf8').replace(/\n/g, '\r\n')) });
      await rejected(
        await fresh(),
        made,
        'CHANGES_INVALID',
        /: line 1 holds a carriage return \(CRLF or CR line endings\): a \.changes has LF line endings only/,
      );
    });
    const people: [string, string, RegExp][] = [
      [
        'Maintainer',
        'Debyard Tests tests@debyard.example.org',
        /Maintainer "Debyard Tests tests@debyard\.example\.org" is not "Name <address@host>": fix the Maintainer field of debian\/control/,
      ],
      [
        'Maintainer',
        '<tests@debyard.example.org>',
        /Maintainer "<tests@debyard\.example\.org>" is not "Name <address@host>"/,
      ],
      [
        'Changed-By',
        'Debyard Tests <tests.debyard.example.org>',
        /Changed-By "Debyard Tests <tests\.debyard\.example\.org>" is not "Name <address@host>": fix the trailer line/,
      ],
      ['Changed-By', 'A <a@b> B <c@d>', /Changed-By "A <a@b> B <c@d>" is not "Name <address@host>"/],
    ];
    for (const [field, value, message] of people)
      it(`CHANGES_INVALID: ${field}: ${value}`, async () => {
        const made = await upload({ edit: (t) => t.replace(new RegExp(`^${field}: .*$`, 'm'), `${field}: ${value}`) });
        await rejected(await fresh(), made, 'CHANGES_INVALID', message);
      });
    it('CHANGES_INVALID: a Closes that is not bug numbers', async () => {
      const made = await upload({ edit: (t) => t.replace(/^Changes:/m, 'Closes: 123 #456\nChanges:') });
      await rejected(
        await fresh(),
        made,
        'CHANGES_INVALID',
        /Closes "123 #456" is not a list of bug numbers separated by spaces: write "Closes: #123, #456" in debian\/changelog/,
      );
    });
    it('accepts bug numbers, and names with dots, commas and non-ASCII letters', async () => {
      const made = await upload({
        edit: (t) =>
          t
            .replace(/^Changes:/m, 'Closes: 123 456789\nChanges:')
            .replace(/^Changed-By: .*$/m, 'Changed-By: Dr. Jöns Müller, Jr. <jm+debian@mail.example.org>'),
      });
      const checked = await checkSpooledUpload(await fresh(), spooled(made));
      assert.equal(checked.changedBy, 'Dr. Jöns Müller, Jr. <jm+debian@mail.example.org>');
    });
  });

  describe('signature time and strength', () => {
    it('SIGNATURE_INVALID: a signature older than a year, saying when it was made', async () => {
      const at = new Date(Date.now() - 370 * DAY);
      const made = await upload({ sign: ancient, gpgOptions: fakedSystemTime(at) });
      await rejected(
        await fresh(),
        made,
        'SIGNATURE_INVALID',
        new RegExp(
          `was signed on ${at.toISOString().slice(0, 19)}\\.000Z, 370 days ago: signatures older than a year \\(365 days\\) are not accepted; sign it again with debsign`,
        ),
      );
    });
    it('accepts a signature made half a year ago, and one an hour ahead of this clock', async () => {
      const old = await upload({ sign: ancient, gpgOptions: fakedSystemTime(new Date(Date.now() - 180 * DAY)) });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(old))).signedBy?.owner, 'ancient');
      const ahead = await upload({ gpgOptions: fakedSystemTime(new Date(Date.now() + 3600 * 1000)) });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(ahead))).signedBy?.owner, 'alice');
    });
    it('SIGNATURE_INVALID: a signature dated 10 days ahead, saying when and what to do', async () => {
      const at = new Date(Date.now() + 10 * DAY);
      const made = await upload({ gpgOptions: fakedSystemTime(at) });
      await rejected(
        await fresh(),
        made,
        'SIGNATURE_INVALID',
        new RegExp(
          `Signature creation time is in the future .*: it says it was signed at ${at.toISOString().slice(0, 19)}\\.000Z, more than 7 days after the time here \\(.*\\); set the clock of the computer that signed it right and sign it again`,
        ),
      );
    });
    it('SIGNATURE_INVALID: a SHA-1 signature, with what to use instead', async () => {
      const made = await upload({ sign: rsa, gpgOptions: ['--digest-algo', 'SHA1'] });
      await rejected(
        await fresh(),
        made,
        'SIGNATURE_INVALID',
        /Insecure message hash algorithm: SHA1.*: sign it again with a strong key and digest \(Ed25519, or RSA of at least 2048 bits, with SHA-256/,
      );
      const sha256 = await upload({ sign: rsa });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(sha256))).signedBy?.owner, 'rsa');
    });
  });

  describe('.dsc signature', () => {
    /** Signs only the .changes (gpg as debsign calls it), so the .dsc stays unsigned. */
    const changesOnly = async (made: MadeUpload, key: UploaderKey): Promise<MadeUpload> => {
      await execa('gpg', [
        '--homedir',
        key.gnupgHome,
        '--batch',
        '--yes',
        '--local-user',
        key.fingerprint,
        '--clearsign',
        made.changes,
      ]);
      await fs.rename(`${made.changes}.asc`, made.changes);
      const bytes = await fs.readFile(made.changes);
      return { ...made, changesSha256: (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex') };
    };

    it('accepts an unsigned .dsc next to a signed .changes', async () => {
      const made = await changesOnly(await upload({ sign: undefined }), alice);
      assert.doesNotMatch(await fs.readFile(made.dsc, 'utf8'), /BEGIN PGP/);
      assert.equal((await checkSpooledUpload(await fresh(), spooled(made))).signedBy?.owner, 'alice');
    });
    it('DSC_SIGNATURE: the .dsc signed by another known key, naming both', async () => {
      const made = await upload({ signDsc: elsewhere });
      await rejected(
        await fresh(),
        made,
        'DSC_SIGNATURE',
        new RegExp(
          `^hello-c_1\\.0~test12\\+1\\.dsc is signed by key ${elsewhere.fingerprint}, but hello-c_1\\.0~test12\\+1_source\\.changes by key ${alice.fingerprint}: sign both with the same key \\(debsign does\\)$`,
        ),
      );
    });
    it('DSC_SIGNATURE: the .dsc signed by a key nobody registered, naming it', async () => {
      const made = await upload({ signDsc: stranger });
      await rejected(
        await fresh(),
        made,
        'DSC_SIGNATURE',
        new RegExp(
          `\\.dsc is signed by key ${stranger.fingerprint}, which debyard does not know, but .*_source\\.changes by key ${alice.fingerprint}: sign both with the same key`,
        ),
      );
    });
    it('repositories that take unsigned uploads do not look at the .dsc signature', async () => {
      const made = await upload({
        signDsc: stranger,
        distribution: 'bookworm-sandbox-unstable',
        version: '1.0~sandbox12+1',
      });
      assert.equal((await checkSpooledUpload(await fresh(), spooled(made))).signedBy?.owner, 'alice');
    });
  });

  describe('source tarballs', () => {
    /** Replaces the native tarball of the upload with one holding `members` under hello-c-1.0/. */
    const withTarball = (members: Parameters<typeof writeTarball>[1]) => ({
      editSource: async ({ dir }: { dir: string }) =>
        writeTarball(path.join(dir, 'hello-c_1.0~test12+1.tar.xz'), [
          { name: 'hello-c-1.0/', type: 'dir' },
          { name: 'hello-c-1.0/debian/', type: 'dir' },
          ...members,
        ]),
    });

    it('SOURCE_UNSAFE: a setuid file in the tarball, named with its tarball', async () => {
      const made = await upload(withTarball([{ name: 'hello-c-1.0/debian/su', data: 'x', mode: 0o4755 }]));
      await rejected(
        await fresh(),
        made,
        'SOURCE_UNSAFE',
        /^hello-c_1\.0~test12\+1\.tar\.xz: member "hello-c-1\.0\/debian\/su" is setuid \(rwsr-xr-x\): repack the tarball without it and rebuild the source package$/,
      );
    });
    it('takes its caps as options', async () => {
      const made = await upload();
      await assert.rejects(
        checkSpooledUpload(await fresh(), spooled(made), {
          tarballLimits: { maxMembers: 3, maxUnpackedBytes: 1e9, timeoutMs: 60_000 },
        }),
        (err: unknown) =>
          err instanceof UploadRejection && err.code === 'SOURCE_UNSAFE' && /more than 3 members/.test(err.message),
      );
    });
    it('lists the orig tarball it was given, but not one from the pool', async () => {
      const first = await upload({
        version: '1.0-1~test12+1',
        editSource: ({ dir }) =>
          writeTarball(path.join(dir, 'hello-c_1.0.orig.tar.gz'), [
            { name: 'hello-c-1.0/', type: 'dir' },
            { name: 'hello-c-1.0/null', type: 'chardev' },
          ]),
      });
      await rejected(
        await fresh(),
        first,
        'SOURCE_UNSAFE',
        /^hello-c_1\.0\.orig\.tar\.gz: member "hello-c-1\.0\/null" is a device node/,
      );
      // The same orig tarball, in the pool (as if it had come in before the check existed).
      const orig = path.join(first.dir, 'hello-c_1.0.orig.tar.gz');
      const next = await upload({
        version: '1.0-2~test12+1',
        include: 'no-orig',
        editSource: ({ dir }) => fs.copyFile(orig, path.join(dir, 'hello-c_1.0.orig.tar.gz')),
      });
      await fs.rm(path.join(next.dir, 'hello-c_1.0.orig.tar.gz'));
      const e = await fresh();
      e.pool.set('test/hello-c/hello-c_1.0.orig.tar.gz', orig);
      const checked = await checkSpooledUpload(e, spooled(next));
      assert.deepEqual(checked.fromPool, [{ name: 'hello-c_1.0.orig.tar.gz', path: orig }]);
    });
  });
});
