import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildVerdict,
  describeUpload,
  latestPerArchitecture,
  uploadState,
  uploadsTable,
  versionsAndSnapshots,
  versionsTable,
  type UploadBuildRow,
  type UploadRow,
} from './package-commands.js';

function build(over: Partial<UploadBuildRow>): UploadBuildRow {
  return {
    id: '1',
    source: 'hello',
    version: '1.0-1',
    distribution: 'bookworm-test-unstable',
    architecture: 'amd64',
    state: 'BUILT',
    result: 'SUCCESSFUL',
    failStage: null,
    reason: null,
    lintian: 'PASS',
    autopkgtest: 'NOT_RUN',
    startedAt: '2025-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:01:30Z',
    sbuildSeconds: null,
    attempt: 1,
    optional: false,
    testBuild: false,
    logUrl: '/logs/1',
    ...over,
  };
}

const rejected: UploadRow = {
  id: '7',
  changesName: 'hello_1.0-1_source.changes',
  via: 'FTP',
  remoteAddress: '127.0.0.1',
  receivedAt: '2025-01-01T00:00:00.000Z',
  state: 'REJECTED',
  source: 'hello',
  version: '1.0-1',
  distribution: 'bookworm-test-unstable',
  targetDistribution: null,
  repository: null,
  changedBy: null,
  signedBy: null,
  uploader: null,
  rejectCode: 'BAD_SIGNATURE',
  reason: 'the .changes is not signed by a known key',
  options: {},
  finishedAt: '2025-01-01T00:00:01.000Z',
  attempt: 1,
  changesUrl: '/uploads/7/hello_1.0-1_source.changes',
};

describe('package tables', () => {
  it('lists versions per repository and distribution, in aligned columns', () => {
    assert.equal(
      versionsTable('hello', [
        { repository: 'test', distribution: 'bookworm-test-unstable', version: '1.0-2', component: 'main' },
        { repository: 'test', distribution: 'bookworm-test-stable', version: '1.0-1', component: 'main' },
      ]),
      [
        'REPOSITORY  DISTRIBUTION            VERSION  COMPONENT',
        'test        bookworm-test-unstable  1.0-2    main',
        'test        bookworm-test-stable    1.0-1    main',
      ].join('\n'),
    );
    assert.equal(versionsTable('hello', []), 'hello is in no repository');
  });

  it('lists the snapshots that hold the source below its versions, and only when there are some', () => {
    const versions = [
      { repository: 'test', distribution: 'bookworm-test-stable', version: '2', component: 'main', rollback: null },
    ];
    const snapshot = {
      repository: 'test',
      distribution: 'bookworm-test-stable',
      snapshot: 'weekly-2026-11-22',
      version: '1',
      component: 'main',
    };
    assert.equal(versionsAndSnapshots('hello', versions, []), versionsTable('hello', versions));
    assert.equal(
      versionsAndSnapshots('hello', [], [snapshot]),
      [
        'hello is in no repository',
        '',
        'in snapshots:',
        'REPOSITORY  DISTRIBUTION          SNAPSHOT           VERSION  COMPONENT',
        'test        bookworm-test-stable  weekly-2026-11-22  1        main',
      ].join('\n'),
    );
  });

  it('marks rollbacks in a column of their own', () => {
    assert.equal(
      versionsTable('hello', [
        { repository: 'test', distribution: 'bookworm-test-stable', version: '2', component: 'main', rollback: null },
        {
          repository: 'test',
          distribution: 'bookworm-test-stable-rollback0',
          version: '1',
          component: 'main',
          rollback: 0,
        },
      ]),
      [
        'REPOSITORY  DISTRIBUTION                    VERSION  COMPONENT  ROLLBACK',
        'test        bookworm-test-stable            2        main',
        'test        bookworm-test-stable-rollback0  1        main       rollback 0 of bookworm-test-stable',
      ].join('\n'),
    );
  });

  it('names the reject code in the state and the reason in the description', () => {
    assert.equal(uploadState(rejected), 'rejected (BAD_SIGNATURE)');
    assert.equal(uploadState({ state: 'INSTALLED', rejectCode: null }), 'installed');
    assert.match(
      uploadsTable([rejected]).split('\n')[1]!,
      /^7 +hello +1\.0-1 +bookworm-test-unstable +rejected \(BAD_SIGNATURE\)/,
    );
    const text = describeUpload(rejected);
    assert.match(text, /^upload 7: hello 1\.0-1 for bookworm-test-unstable$/m);
    assert.match(text, /reason: +the \.changes is not signed by a known key/);
    assert.match(text, /changes: +\/uploads\/7\/hello_1\.0-1_source\.changes/);
  });

  it('says how builds ended and keeps the newest per distribution and architecture', () => {
    assert.equal(buildVerdict(build({})), 'successful');
    assert.equal(buildVerdict(build({ result: 'GIVEN_BACK' })), 'given-back');
    assert.equal(buildVerdict(build({ state: 'BUILDING', result: null })), 'building');
    assert.equal(buildVerdict(build({ result: 'FAILED', failStage: 'build' })), 'failed at build');
    const latest = latestPerArchitecture([
      build({ id: '4', architecture: 'arm64' }),
      build({ id: '3', architecture: 'amd64', testBuild: true }),
      build({ id: '2', architecture: 'amd64' }),
      build({ id: '1', architecture: 'amd64' }),
    ]);
    assert.deepEqual(
      latest.map((b) => b.id),
      ['4', '2'],
    );
    const withBuilds = describeUpload({ ...rejected, builds: [build({ sbuildSeconds: 42 })] });
    assert.match(withBuilds, /^1 +1\.0-1 +bookworm-test-unstable +amd64 +successful +pass +not-run +42\.0 s$/m);
  });
});
