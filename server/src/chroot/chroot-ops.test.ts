import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ChrootLog, failureReason } from './chroot-log.js';
import {
  chrootLogPath,
  chrootRef,
  instanceTag,
  sbuildTmpdirTemplate,
  schrootName,
  schrootPrefix,
} from './chroot-ops.js';
import { Chroot, ChrootBackend } from './chroot.entity.js';

function chroot(backend: ChrootBackend): Chroot {
  const c = Object.create(Chroot.prototype) as Chroot;
  Object.assign(c, { architecture: 'amd64', backend, source: { codename: 'bookworm' } });
  return c;
}

describe('chroot names', () => {
  it('are plain for the default data directory and carry a hash of the path otherwise', () => {
    assert.equal(instanceTag('/var/lib/debyard'), '');
    assert.equal(instanceTag('/var/lib/debyard/'), '', 'the path is resolved first');
    assert.equal(schrootName('/var/lib/debyard', 'bookworm-amd64'), 'debyard-bookworm-amd64');
    const tag = instanceTag('/srv/other');
    assert.match(tag, /^[0-9a-f]{8}$/);
    assert.notEqual(tag, instanceTag('/srv/other2'));
    assert.equal(schrootPrefix('/srv/other'), `debyard-${tag}-`);
    assert.equal(schrootName('/srv/other', 'bookworm-amd64'), `debyard-${tag}-bookworm-amd64`);
    assert.equal(sbuildTmpdirTemplate('/var/lib/debyard'), '/dev/shm/tmp.sbuild.debyard-default.XXXXXXXXXX');
    assert.equal(sbuildTmpdirTemplate('/srv/other'), `/dev/shm/tmp.sbuild.debyard-${tag}.XXXXXXXXXX`);
  });

  it('give builds a schroot name, or an absolute tarball path and where to unpack it', () => {
    assert.deepEqual(chrootRef(chroot(ChrootBackend.SCHROOT), '/var/lib/debyard'), {
      backend: ChrootBackend.SCHROOT,
      name: 'debyard-bookworm-amd64',
    });
    assert.deepEqual(chrootRef(chroot(ChrootBackend.UNSHARE), '/var/lib/debyard'), {
      backend: ChrootBackend.UNSHARE,
      name: '/var/lib/debyard/chroots/bookworm-amd64.tar.zst',
      tmpdirTemplate: '/dev/shm/tmp.sbuild.debyard-default.XXXXXXXXXX',
    });
  });

  it('refuse keys that would leave the chroots directory', () => {
    assert.equal(chrootLogPath('/d', 'bookworm-amd64'), '/d/chroots/bookworm-amd64.log');
    for (const bad of ['../x', 'a/b', '', '.hidden', 'a..b', 'Bookworm-amd64'])
      assert.throws(() => chrootLogPath('/d', bad), /is not a chroot key/, bad);
  });
});

describe('failureReason', () => {
  it('quotes the first, most specific E: lines', () => {
    const tail = [
      'Get:1 http://127.0.0.1:9/debian bookworm InRelease [151 kB]',
      'E: Failed to fetch http://127.0.0.1:9/debian/dists/bookworm/main/binary-amd64/Packages  404  Not Found',
      'E: Some index files failed to download.',
      'E: mmdebstrap failed to run',
    ];
    assert.equal(
      failureReason(tail),
      'E: Failed to fetch http://127.0.0.1:9/debian/dists/bookworm/main/binary-amd64/Packages  404  Not Found; E: Some index files failed to download.',
    );
  });

  it('falls back to the last lines, and names sudo refusals', () => {
    assert.equal(failureReason(['a', 'b', 'c', 'd']), 'b; c; d');
    assert.equal(failureReason(['sudo: a password is required']), 'sudo: a password is required');
    assert.equal(failureReason([]), 'no output');
  });
});

describe('ChrootLog', () => {
  it('truncates, writes a header and appends a tool’s output as it comes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chroot-log-'));
    try {
      const file = path.join(dir, 'x.log');
      await fs.writeFile(file, 'old content that must go\n');
      const log = ChrootLog.open(file, '== creating x');
      const r = await log.run('sh', ['-c', 'echo out; echo "E: broken" >&2; exit 3']);
      log.close();
      assert.equal(r.exitCode, 3);
      assert.deepEqual(r.tail.slice().sort(), ['E: broken', 'out']);
      const text = await fs.readFile(file, 'utf8');
      assert.match(text, /^== creating x\n\$ sh -c 'echo out; echo "E: broken" >&2; exit 3'\n/);
      assert.ok(!text.includes('old content'));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
