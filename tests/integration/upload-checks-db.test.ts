// checkUpload on a real database, instance key and reprepro repository: the configuration, keys,
// replays, installed versions and pool files come from where the daemon keeps them.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Source } from '@debyard/server/dist/archive/source.entity.js';
import { openDatabase } from '@debyard/server/dist/db/orm.js';
import {
  Architecture,
  ArchitectureOption,
  Component,
  Distribution,
} from '@debyard/server/dist/distribution/distribution.entity.js';
import { Layout, Suite, SuiteOption } from '@debyard/server/dist/layout/layout.entity.js';
import { ConfigStatus } from '@debyard/server/dist/lifecycle/lifecycle.js';
import { createLogger } from '@debyard/server/dist/log.js';
import { InstanceKeyStore } from '@debyard/server/dist/pgp/instance-key.js';
import { Reprepro } from '@debyard/server/dist/repository/reprepro.js';
import { Repository } from '@debyard/server/dist/repository/repository.entity.js';
import { checkUpload, UploadRejection } from '@debyard/server/dist/upload/checks.js';
import { Upload, UploadState, UploadVia } from '@debyard/server/dist/upload/upload.entity.js';
import { Uploader } from '@debyard/server/dist/uploader/uploader.entity.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';
import { generateUploaderKey, makeUpload, type MadeUpload, type UploaderKey } from '../support/uploads.js';

const logger = createLogger('silent');

describe('checkUpload against the database, the instance key and reprepro', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let dataDir: string;
  let keys: InstanceKeyStore;
  let reprepro: Reprepro;
  let alice: UploaderKey;
  let bob: UploaderKey;
  let extra: UploaderKey;
  const dirs: string[] = [];
  let nextId = 1;

  /** Stores an Upload row for `made`, as intake does, and checks it. */
  const check = async (made: MadeUpload) => {
    const em = orm.em.fork();
    const row = em.create(Upload, {
      changesName: made.changesName,
      spoolDir: made.dir,
      via: UploadVia.FTP,
      changesSha256: made.changesSha256,
    });
    await em.flush();
    nextId = row.id;
    try {
      return await checkUpload(em, { dataDir, keys, logger }, row);
    } catch (err) {
      // As the pipeline does: rejected, with the signer when its signature had been accepted.
      row.state = UploadState.REJECTED;
      if (err instanceof UploadRejection && err.signedBy) row.signedBy = err.signedBy.fingerprint;
      await em.flush();
      throw err;
    }
  };
  const rejects = async (made: MadeUpload, code: string, message: RegExp) =>
    assert.rejects(check(made), (err: unknown) => {
      assert.ok(err instanceof UploadRejection, String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
  const upload = async (opts: Parameters<typeof makeUpload>[1] = {}) => {
    const made = await makeUpload('hello-c', {
      version: '1.0~test12+1',
      distribution: 'bookworm-test-unstable',
      sign: alice,
      ...opts,
    });
    dirs.push(made.dir);
    return made;
  };
  const withRepository = async (fn: (em: EntityManager, repo: Repository) => void) => {
    const em = orm.em.fork();
    fn(em, await em.findOneOrFail(Repository, { identity: 'test' }));
    await em.flush();
  };

  before(async () => {
    db = await createTestDatabase();
    orm = await openDatabase(db.url, logger);
    dataDir = await fs.mkdtemp('/tmp/dy-checks-');
    keys = new InstanceKeyStore({ keysDir: path.join(dataDir, 'keys'), logger });
    const instance = await keys.generate({ identity: 'test', email: 'debyard@example.org' });
    [alice, bob, extra] = await Promise.all([
      generateUploaderKey({ name: 'Alice' }),
      generateUploaderKey({ name: 'Bob' }),
      generateUploaderKey({ name: 'Extra' }),
    ]);

    const em = orm.em.fork();
    const source = em.create(Source, { origin: 'Debian', codename: 'bookworm', codeversion: '12' });
    source.status = ConfigStatus.ACTIVE;
    const main = em.create(Component, { name: 'main' });
    const amd64 = em.create(Architecture, { name: 'amd64' });
    const dist = em.create(Distribution, { baseSource: source });
    dist.components.add(main);
    dist.architectureOptions.add(
      em.create(ArchitectureOption, { distribution: dist, architecture: amd64, buildArchitectureAll: true }),
    );
    const layout = em.create(Layout, { name: 'Default', metaDistributions: { unstable: 'bookworm-unstable' } });
    for (const [name, uploadable, experimental] of [
      ['testing', false, false],
      ['unstable', true, false],
      ['experimental', true, true],
    ] as const)
      layout.suiteOptions.add(
        em.create(SuiteOption, { layout, suite: em.create(Suite, { name }), uploadable, experimental }),
      );
    const repo = em.create(Repository, { identity: 'test', layout, extraUploaderKeys: extra.armored });
    repo.status = ConfigStatus.ACTIVE;
    repo.distributions.add(dist);
    for (const [key, status] of [
      [alice, ConfigStatus.ACTIVE],
      [bob, ConfigStatus.PREPARED],
    ] as const) {
      const uploader = em.create(Uploader, {
        fingerprint: key.fingerprint,
        armored: key.armored,
        userIds: [key.userId],
      });
      uploader.status = status;
      uploader.repositories.add(repo);
    }
    await em.flush();

    reprepro = new Reprepro({ basedir: path.join(dataDir, 'repositories', 'test'), gnupgHome: keys.gnupgHome, logger });
    await reprepro.configure(
      ['testing', 'unstable', 'experimental'].map((suite) => ({
        codename: `bookworm-test-${suite}`,
        origin: 'debyard test',
        components: ['main'],
        architectures: ['amd64'],
        description: `bookworm-test-${suite}`,
        notAutomatic: false,
        butAutomaticUpgrades: false,
        signWith: instance.fingerprint,
      })),
    );
    await reprepro.export();
  });
  after(async () => {
    await orm?.close();
    await db?.drop();
    await stopScratchCluster();
    await Promise.all([alice, bob, extra].map((k) => k?.dispose()));
    await Promise.all([dataDir, ...dirs].map((d) => d && fs.rm(d, { recursive: true, force: true })));
  });

  it('accepts an active uploader’s upload, also to a meta-distribution', async () => {
    const checked = await check(await upload({ distribution: 'unstable' }));
    assert.equal(checked.targetDistribution, 'bookworm-test-unstable');
    assert.deepEqual(checked.signedBy, { fingerprint: alice.fingerprint, owner: alice.userId });
  });

  it('accepts the repository’s extra uploader keys', async () => {
    const checked = await check(await upload({ sign: extra }));
    assert.match(checked.signedBy!.owner, /^extra key of repository test \(Extra/);
  });

  it('refuses a key that is not active, and an unsigned upload', async () => {
    await rejects(await upload({ sign: bob }), 'KEY_NOT_ALLOWED', /the uploader key is prepared, not active/);
    await rejects(await upload({ sign: undefined }), 'SIGNATURE_MISSING', /repository test takes only signed uploads/);
  });

  it('refuses a replay of an upload recorded in the database', async () => {
    const made = await upload();
    await check(made);
    const em = orm.em.fork();
    const first = await em.findOneOrFail(Upload, nextId);
    first.state = UploadState.PACKAGING;
    await em.flush();
    await rejects(made, 'REPLAY', new RegExp(`already uploaded as upload ${first.id}`));
  });

  it('refuses a replay of an upload that was rejected after its signature was accepted, not before', async () => {
    const made = await upload({ version: '1.0' });
    await rejects(made, 'VERSION_RULE', /does not match the rule/);
    const first = nextId;
    await rejects(made, 'REPLAY', new RegExp(`already uploaded as upload ${first} .*, and was rejected`));
    const unallowed = await upload({ sign: bob, version: '1.0~test12+7' });
    await rejects(unallowed, 'KEY_NOT_ALLOWED', /prepared, not active/);
    await rejects(unallowed, 'KEY_NOT_ALLOWED', /prepared, not active/);
  });

  it('reads installed versions from reprepro and orig tarballs from its pool', async () => {
    const first = await upload({ version: '1.0-1~test12+1' });
    await check(first);
    await reprepro.run(['includedsc', 'bookworm-test-unstable', first.dsc]);
    // Another .changes of the same version (the same bytes again would be a replay).
    await rejects(
      await upload({ version: '1.0-1~test12+1', changesExtra: ['Again.'] }),
      'VERSION_EXISTS',
      /is already in bookworm-test-unstable/,
    );
    const orig = path.join(first.dir, 'hello-c_1.0.orig.tar.gz');
    const lower = await upload({ version: '1.0-0~test12+1', include: 'no-orig', orig });
    await rejects(lower, 'VERSION_LOWER', /lower than 1\.0-1~test12\+1, which is in bookworm-test-unstable/);

    const next = await upload({ version: '1.0-2~test12+1', include: 'no-orig', orig });
    await fs.rm(path.join(next.dir, 'hello-c_1.0.orig.tar.gz'));
    const checked = await check(next);
    assert.deepEqual(checked.fromPool, [
      {
        name: 'hello-c_1.0.orig.tar.gz',
        path: path.join(dataDir, 'repositories/test/pool/main/h/hello-c/hello-c_1.0.orig.tar.gz'),
      },
    ]);
  });

  it('refuses uploads while the repository or its source is not active', async () => {
    await withRepository((_em, repo) => void (repo.status = ConfigStatus.PREPARED));
    await rejects(await upload({ version: '1.1~test12+1' }), 'DISTRIBUTION_INACTIVE', /repository test is prepared/);
    await withRepository((_em, repo) => void (repo.status = ConfigStatus.ACTIVE));
    const em = orm.em.fork();
    const source = await em.findOneOrFail(Source, { codename: 'bookworm' });
    source.status = ConfigStatus.PREPARED;
    await em.flush();
    // Another .changes: the first was rejected after its signature was accepted, so the same bytes are a replay.
    await rejects(
      await upload({ version: '1.1~test12+1', changesExtra: ['Again.'] }),
      'DISTRIBUTION_INACTIVE',
      /distribution bookworm uses source Debian:bookworm, which is prepared, not active/,
    );
  });
});
