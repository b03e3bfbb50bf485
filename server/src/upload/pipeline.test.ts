import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QaMode } from '../distribution/distribution.entity.js';
import type { BuildSpec } from '../build/build-spec.js';
import { applyOptions, archMatches, rivalOf } from './pipeline.js';
import { UploadState } from './upload.entity.js';

const sha = (c: string) => c.repeat(64);
const orig = (c: string) => ({ name: 'hello_1.0.orig.tar.gz', size: 10, sha256: sha(c) });
const checked = {
  source: 'hello',
  version: '1.0-2~test12+1',
  repository: 'test',
  files: [orig('a'), { name: 'hello_1.0-2~test12+1.dsc', size: 5, sha256: sha('b') }],
};
const inFlight = (version: string, files: ReturnType<typeof orig>[]) => ({
  id: 7,
  state: UploadState.PACKAGING,
  version,
  targetDistribution: 'bookworm-test-experimental',
  files,
});

describe('rivalOf: uploads of one source in flight at once', () => {
  it('lets an upload through next to other versions that bring the same files or none of its names', () => {
    assert.equal(rivalOf(checked, []), null);
    assert.equal(rivalOf(checked, [inFlight('1.0-2~test12+0', [orig('a')])]), null);
    assert.equal(rivalOf(checked, [inFlight('1.0-3~test12+1', [])]), null);
  });

  it('rejects the same version as VERSION_EXISTS, naming the rival', () => {
    const r = rivalOf(checked, [inFlight('1.0-2~test12+1', [])]);
    assert.equal(r?.code, 'VERSION_EXISTS');
    assert.match(r.message, /hello 1\.0-2~test12\+1 is already packaging in test \(upload #7\)/);
  });

  it('rejects a same-named file with other contents as CHECKSUM_MISMATCH, naming the file and the rival', () => {
    const r = rivalOf(checked, [inFlight('1.0-2~test12+0', [orig('c')])]);
    assert.equal(r?.code, 'CHECKSUM_MISMATCH');
    assert.match(
      r.message,
      /^hello_1\.0\.orig\.tar\.gz differs .* upload #7 \(hello 1\.0-2~test12\+0 for bookworm-test-experimental\)/,
    );
  });
});

describe('archMatches', () => {
  it('matches the .dsc wildcards Debian uses for an architecture', () => {
    for (const token of ['any', 'amd64', 'linux-any', 'any-amd64', 'linux-amd64'])
      assert.ok(archMatches(token, 'amd64'));
    for (const token of ['all', 'i386', 'any-i386', 'kfreebsd-any']) assert.ok(!archMatches(token, 'amd64'), token);
  });
});

describe('applyOptions', () => {
  const spec = {
    lintianMode: QaMode.ERRFAIL,
    autopkgtestMode: QaMode.DISABLED,
    debBuildOptions: '',
    debBuildProfiles: '',
    addDepends: [],
  } as unknown as BuildSpec;

  it('takes upload options over the distribution’s, and [arch] options over both', () => {
    const out = applyOptions(
      spec,
      { lintianMode: QaMode.IGNORE, perArch: { amd64: { lintianMode: QaMode.WARNFAIL, debBuildOptions: 'nocheck' } } },
      'amd64',
      false,
    );
    assert.equal(out.lintianMode, QaMode.WARNFAIL);
    assert.equal(out.debBuildOptions, 'nocheck');
    assert.equal(applyOptions(spec, { lintianMode: QaMode.IGNORE }, 'i386', false).lintianMode, QaMode.IGNORE);
  });

  it('never fails experimental uploads on QA, but keeps QA that is switched off', () => {
    const out = applyOptions({ ...spec, autopkgtestMode: QaMode.ERRFAIL }, {}, 'amd64', true);
    assert.equal(out.lintianMode, QaMode.IGNORE);
    assert.equal(out.autopkgtestMode, QaMode.IGNORE);
    assert.equal(applyOptions(spec, {}, 'amd64', true).autopkgtestMode, QaMode.DISABLED);
  });
});
