import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { pino } from 'pino';
import { BuildResult, QaResult } from '../build/build.entity.js';
import { stripClearsign } from '../build/dsc.js';
import { formatDeb822, parseSingleParagraph, type Paragraph } from '../debian/deb822.js';
import { Ftpd, type FtpSession } from '../ftp/ftpd.js';
import { InstanceKeyStore } from '../pgp/instance-key.js';
import { readArmoredKeys } from '../pgp/verify.js';
import {
  fieldText,
  ftpUpload,
  newTimecode,
  readBuildRequest,
  readBuildResult,
  sbuildStatusFor,
  TransferError,
  transferKind,
  writeBuildRequest,
  writeBuildResult,
  type BuildRequestConfig,
  type BuildRequestFields,
  type BuildResultFields,
  type TransferErrorCode,
} from './transfer.js';

const quiet = pino({ level: 'silent' });
let tmp: string;
let n = 0;

interface Instance {
  store: InstanceKeyStore;
  key: openpgp.PublicKey;
  fingerprint: string;
  sign: (text: string) => Promise<string>;
}
let packager: Instance;
let builder: Instance;
let stranger: Instance;

async function instance(identity: string): Promise<Instance> {
  const store = new InstanceKeyStore({ keysDir: path.join(tmp, `keys-${identity}`), logger: quiet });
  const info = await store.generate({ identity, email: `debyard@${identity}` });
  const [key] = await readArmoredKeys(await store.armoredPublicKey());
  return { store, key: key!, fingerprint: info.fingerprint, sign: (text) => store.signCleartext(text) };
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-transfer-'));
  [packager, builder, stranger] = await Promise.all([instance('ernie'), instance('grover'), instance('oscar')]);
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function freshDir(what: string): Promise<string> {
  const dir = path.join(tmp, `${what}-${++n}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** Files plus a control file listing them in Files (md5, 3 or 5 columns) and Checksums-Sha256. */
async function writeControl(
  dir: string,
  name: string,
  head: Record<string, string>,
  files: Record<string, Buffer>,
  sectioned: boolean,
): Promise<string> {
  for (const [f, bytes] of Object.entries(files)) await fs.writeFile(path.join(dir, f), bytes);
  const entries = Object.entries(files);
  const text = formatDeb822([
    {
      ...head,
      Files: entries.map(([f, b]) => `\n${md5(b)} ${b.length}${sectioned ? ' misc optional' : ''} ${f}`).join(''),
      'Checksums-Sha256': entries.map(([f, b]) => `\n${sha256(b)} ${b.length} ${f}`).join(''),
    },
  ]);
  await fs.writeFile(path.join(dir, name), text);
  return path.join(dir, name);
}

/** A source package as far as the transfer cares: a .dsc and the files it lists. */
async function makeSource(): Promise<{ dsc: string; files: Record<string, Buffer> }> {
  const dir = await freshDir('source');
  const files = {
    'hello_1.0.orig.tar.gz': randomBytes(3000),
    'hello_1.0-1.debian.tar.xz': randomBytes(700),
  };
  const dsc = await writeControl(
    dir,
    'hello_1.0-1.dsc',
    { Format: '3.0 (quilt)', Source: 'hello', Version: '1.0-1', Architecture: 'any' },
    files,
    false,
  );
  await fs.writeFile(dsc, await packager.sign(await fs.readFile(dsc, 'utf8')));
  return { dsc, files };
}

const REQUEST: BuildRequestFields = {
  distribution: 'bookworm-test-unstable',
  source: 'hello',
  version: '1.0-1',
  architecture: 'amd64',
  timecode: '2026-12-06T08:00:00.000Z-0a1b2c3d',
  uploadTo: 'ftp://127.0.0.1:8067/',
  packager: 'http://127.0.0.1:8066',
  builder: 'http://grover:8066',
  archAll: true,
  buildDepResolver: 'apt',
  debBuildOptions: 'nocheck parallel=2',
  debBuildProfiles: '',
  addDepends: 'libfoo-dev, bar',
  lintianMode: 'ERRFAIL',
  lintianExtraOptions: '--pedantic',
  autopkgtestMode: 'DISABLED',
  buildlog: 'hello_1.0-1/amd64/hello_1.0-1_amd64.buildlog',
};
const CONFIG: BuildRequestConfig = {
  aptSources: 'deb http://deb.example/debian bookworm main\n',
  aptPreferences: 'Package: *\nPin: release n=bookworm-test-unstable\nPin-Priority: 1\n',
  aptKeys: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n',
};

async function writeRequest(fields = REQUEST) {
  const source = await makeSource();
  const out = await freshDir('out');
  const written = await writeBuildRequest(out, fields, CONFIG, source.dsc, packager.sign);
  return { ...written, source, out };
}

async function tarMembers(tar: string): Promise<string[]> {
  const r = await execa('tar', ['-tPf', tar]);
  return r.stdout.split('\n');
}

/** Replaces a transfer's fields and re-signs it, with Files and Checksums-Sha256 of what is next to it now. */
async function resign(changes: string, signer: Instance, edit: (p: Paragraph) => void = () => undefined) {
  const p = parseSingleParagraph(stripClearsign(await fs.readFile(changes, 'utf8')));
  const names = p.lines('Checksums-Sha256').map((l) => l.trim().split(/\s+/)[2]!);
  const files = await Promise.all(
    names.map(async (f) => [f, await fs.readFile(path.join(path.dirname(changes), f))] as const),
  );
  p.set('Files', files.map(([f, b]) => `\n${md5(b)} ${b.length} mini-buildd extra ${f}`).join(''));
  p.set('Checksums-Sha256', files.map(([f, b]) => `\n${sha256(b)} ${b.length} ${f}`).join(''));
  edit(p);
  await fs.writeFile(changes, await signer.sign(formatDeb822([p])));
}

async function refused(promise: Promise<unknown>, code: TransferErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TransferError, `expected a TransferError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('transfer names', () => {
  it('tells requests and results from other .changes by name', () => {
    assert.equal(transferKind('/x/hello_1.0-1_mini-buildd-buildrequest_amd64.changes'), 'request');
    assert.equal(transferKind('hello_1.0-1_mini-buildd-buildresult_i386.changes'), 'result');
    assert.equal(transferKind('hello_1.0-1_amd64.changes'), null);
    assert.equal(transferKind('hello_1.0-1_mini-buildd-buildrequest_amd64.changes.tar'), null);
  });

  it('makes unique timecodes', () => {
    const a = newTimecode();
    assert.match(a, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z-[0-9a-f]{8}$/);
    assert.notEqual(a, newTimecode());
  });
});

describe('build requests', () => {
  it('are written as mini-buildd writes them, and read back equal', async () => {
    const w = await writeRequest();
    assert.equal(path.basename(w.changes), 'hello_1.0-1_mini-buildd-buildrequest_amd64.changes');
    assert.deepEqual(w.files, [`${w.changes}.tar`, w.changes]);
    assert.deepEqual(await tarMembers(`${w.changes}.tar`), [
      '.config/apt_keys',
      '.config/apt_preferences',
      '.config/apt_sources.list',
      'hello_1.0-1.dsc',
      'hello_1.0-1.debian.tar.xz',
      'hello_1.0.orig.tar.gz',
    ]);
    const body = parseSingleParagraph(stripClearsign(await fs.readFile(w.changes, 'utf8')));
    assert.equal(body.get('X-Mini-Buildd-Arch-All'), 'Yes');
    assert.equal(body.get('X-Mini-Buildd-Add-Depends'), 'libfoo-dev, bar');
    assert.equal(body.has('X-Mini-Buildd-Deb-Build-Profiles'), false, 'empty values are left out');
    assert.match(
      body.get('Files')!,
      /^\n[0-9a-f]{32} \d+ mini-buildd extra hello_1\.0-1_mini-buildd-buildrequest_amd64\.changes\.tar$/,
    );

    const dest = path.join(tmp, `extract-${++n}`);
    const r = await readBuildRequest(w.changes, [builder.key, packager.key], dest);
    assert.deepEqual(r.fields, REQUEST);
    assert.deepEqual(r.config, CONFIG);
    assert.equal(r.dsc, path.join(dest, 'hello_1.0-1.dsc'));
    assert.deepEqual(await fs.readFile(r.dsc), await fs.readFile(w.source.dsc));
    for (const [f, bytes] of Object.entries(w.source.files))
      assert.deepEqual(await fs.readFile(path.join(dest, f)), bytes);
    assert.equal(r.signedBy, packager.fingerprint);
    assert.ok(Math.abs(r.signedAt.getTime() - Date.now()) < 60_000);
  });

  it('write the same tar for the same input', async () => {
    const source = await makeSource();
    const [a, b] = [await freshDir('out'), await freshDir('out')];
    const wa = await writeBuildRequest(a, REQUEST, CONFIG, source.dsc, packager.sign);
    const wb = await writeBuildRequest(b, REQUEST, CONFIG, source.dsc, packager.sign);
    assert.deepEqual(await fs.readFile(wa.files[0]!), await fs.readFile(wb.files[0]!));
  });

  it('leave out the epoch from file names and keep it in Version', async () => {
    const w = await writeRequest({ ...REQUEST, version: '2:1.0-1', archAll: false });
    assert.equal(path.basename(w.changes), 'hello_1.0-1_mini-buildd-buildrequest_amd64.changes');
    const r = await readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`));
    assert.equal(r.fields.version, '2:1.0-1');
    assert.equal(r.fields.archAll, false);
  });

  it('refuse to write a field with a line break or a mode that does not exist', async () => {
    await refused(
      writeRequest({ ...REQUEST, debBuildOptions: 'nocheck\nEvil: yes' }),
      'MALFORMED_TRANSFER',
      /X-Mini-Buildd-Deb-Build-Options holds a line break/,
    );
    await refused(
      writeRequest({ ...REQUEST, lintianMode: 'sometimes' }),
      'MALFORMED_TRANSFER',
      /Lintian-Mode "sometimes"/,
    );
    await refused(writeRequest({ ...REQUEST, timecode: '' }), 'MALFORMED_TRANSFER', /X-Mini-Buildd-Timecode is empty/);
  });

  it('refuse one signed by a key that is not ours or a remote’s, naming the signer', async () => {
    const source = await makeSource();
    const w = await writeBuildRequest(await freshDir('out'), REQUEST, CONFIG, source.dsc, stranger.sign);
    const dest = path.join(tmp, `extract-${++n}`);
    await refused(
      readBuildRequest(w.changes, [packager.key, builder.key], dest),
      'UNKNOWN_KEY',
      new RegExp(stranger.fingerprint),
    );
    await assert.rejects(fs.access(dest), 'nothing is left unpacked');
  });

  it('accept a signature from a clock a little ahead of ours, not one an hour ahead', async () => {
    const w = await writeRequest();
    const text = stripClearsign(await fs.readFile(w.changes, 'utf8'));
    const key = await openpgp.readPrivateKey({ armoredKey: await fs.readFile(packager.store.keyFile, 'utf8') });
    const signAt = async (offsetMs: number) => {
      const message = await openpgp.createCleartextMessage({ text: text.replace(/\n$/, '') });
      const signed = await openpgp.sign({ message, signingKeys: key, date: new Date(Date.now() + offsetMs) });
      await fs.writeFile(w.changes, signed.replace(/\r\n/g, '\n'));
    };
    await signAt(2 * 60_000);
    const r = await readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`));
    assert.ok(r.signedAt.getTime() > Date.now() + 60_000);
    await signAt(60 * 60_000);
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'BAD_SIGNATURE',
      /FUTURE_SIGNATURE/,
    );
  });

  it('refuse an unsigned request, and any request when there are no keys to check it with', async () => {
    const w = await writeRequest();
    const signed = await fs.readFile(w.changes, 'utf8');
    await refused(
      readBuildRequest(w.changes, [], path.join(tmp, `extract-${++n}`)),
      'UNKNOWN_KEY',
      new RegExp(`signed by ${packager.fingerprint}.*no keys`),
    );
    await fs.writeFile(w.changes, stripClearsign(signed));
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'BAD_SIGNATURE',
      /is not clearsigned/,
    );
  });

  it('refuse a signed text that was changed', async () => {
    const w = await writeRequest();
    const text = await fs.readFile(w.changes, 'utf8');
    await fs.writeFile(
      w.changes,
      text.replace('X-Mini-Buildd-Upload-To: ftp://127.0.0.1:8067/', 'X-Mini-Buildd-Upload-To: ftp://evil:21/'),
    );
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'BAD_SIGNATURE',
      new RegExp(`${packager.fingerprint}.*not valid`),
    );
  });

  it('refuse a tar whose checksum is not the signed one', async () => {
    const w = await writeRequest();
    const tar = w.files[0]!;
    const bytes = await fs.readFile(tar);
    bytes[bytes.length - 1] ^= 1;
    await fs.writeFile(tar, bytes);
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'CHECKSUM_MISMATCH',
      /changes\.tar does not match .*expected sha256/,
    );
  });

  it('refuse a request whose tar is missing', async () => {
    const w = await writeRequest();
    await fs.rm(w.files[0]!);
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'CHECKSUM_MISMATCH',
      /changes\.tar, listed in .*, is not next to it.*ENOENT/,
    );
  });

  it('refuse a request without a mandatory field, naming it', async () => {
    const w = await writeRequest();
    await resign(w.changes, packager, (p) => p.delete('X-Mini-Buildd-Upload-To'));
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'MALFORMED_TRANSFER',
      /has no X-Mini-Buildd-Upload-To field/,
    );
  });

  it('refuse a request whose name does not match its fields', async () => {
    const w = await writeRequest();
    await resign(w.changes, packager, (p) => p.set('Architecture', 'i386'));
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'MALFORMED_TRANSFER',
      /does not match its fields.*buildrequest_i386/,
    );
  });

  /** A request whose tar is rebuilt by `make` (in the tar's directory) and then signed again. */
  async function withTar(make: (dir: string, tar: string) => Promise<void>): Promise<string> {
    const w = await writeRequest();
    const work = await freshDir('evil');
    await execa('tar', ['-xf', w.files[0]!, '-C', work]);
    await fs.rm(w.files[0]!);
    await make(work, w.files[0]!);
    await resign(w.changes, packager);
    return w.changes;
  }
  const MEMBERS = [
    '.config/apt_keys',
    '.config/apt_preferences',
    '.config/apt_sources.list',
    'hello_1.0-1.dsc',
    'hello_1.0-1.debian.tar.xz',
    'hello_1.0.orig.tar.gz',
  ];

  it('accept mini-buildd’s tars, which also hold the request itself, and its lower-case modes', async () => {
    const changes = await withTar(async (dir, tar) => {
      await fs.writeFile(path.join(dir, 'hello_1.0-1_mini-buildd-buildrequest_amd64.changes'), 'unsigned copy');
      await execa('tar', ['-cf', tar, '-C', dir, 'hello_1.0-1_mini-buildd-buildrequest_amd64.changes', ...MEMBERS]);
    });
    await resign(changes, packager, (p) => p.set('X-Mini-Buildd-Lintian-Mode', 'warnfail'));
    const dest = path.join(tmp, `extract-${++n}`);
    const r = await readBuildRequest(changes, [packager.key], dest);
    assert.equal(r.fields.lintianMode, 'WARNFAIL');
    assert.deepEqual((await fs.readdir(dest)).sort(), [
      '.config',
      'hello_1.0-1.debian.tar.xz',
      'hello_1.0-1.dsc',
      'hello_1.0.orig.tar.gz',
    ]);
  });

  it('refuse a mode that does not exist', async () => {
    const w = await writeRequest();
    await resign(w.changes, packager, (p) => p.set('X-Mini-Buildd-Autopkgtest-Mode', 'often'));
    await refused(
      readBuildRequest(w.changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'MALFORMED_TRANSFER',
      /X-Mini-Buildd-Autopkgtest-Mode "often" is not one of/,
    );
  });

  it('refuse a tar with a ".." member, before unpacking anything', async () => {
    const changes = await withTar(async (dir, tar) => {
      await fs.writeFile(path.join(dir, 'x'), 'owned');
      await execa('tar', ['-cPf', tar, '-C', dir, '--transform', 's,^x$,../x,', ...MEMBERS, 'x']);
    });
    const dest = path.join(tmp, `extract-${++n}`, 'in');
    await refused(
      readBuildRequest(changes, [packager.key], dest),
      'UNSAFE_TAR',
      /member "\.\.\/x" has a "\.\." component/,
    );
    await assert.rejects(fs.access(path.join(dest, '..', 'x')), '../x was not written');
  });

  it('refuse a tar with an absolute member', async () => {
    const abs = path.join(tmp, `abs-${++n}`);
    await fs.writeFile(abs, 'owned');
    const changes = await withTar(async (dir, tar) => {
      await execa('tar', ['-cPf', tar, '-C', dir, ...MEMBERS, abs]);
    });
    await refused(
      readBuildRequest(changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'UNSAFE_TAR',
      /has an absolute name/,
    );
  });

  it('refuse a tar with a symlink member', async () => {
    const changes = await withTar(async (dir, tar) => {
      await fs.symlink('/etc/passwd', path.join(dir, 'hello_1.0.orig.tar.gz.lnk'));
      await execa('tar', ['-cf', tar, '-C', dir, ...MEMBERS, 'hello_1.0.orig.tar.gz.lnk']);
    });
    await refused(
      readBuildRequest(changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'UNSAFE_TAR',
      /is a symbolic link \(to "\/etc\/passwd"\)/,
    );
  });

  it('refuse a tar whose members declare more bytes than it holds (a sparse-file bomb)', async () => {
    const changes = await withTar(async (dir, tar) => {
      await execa('truncate', ['-s', '1G', path.join(dir, 'big')]);
      await execa('tar', ['--sparse', '-cf', tar, '-C', dir, ...MEMBERS, 'big']);
    });
    await refused(
      readBuildRequest(changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'UNSAFE_TAR',
      /member "big" makes the members declare more bytes \(\d+\) than the tar has/,
    );
  });

  it('refuse a tar with a file the .dsc does not list', async () => {
    const changes = await withTar(async (dir, tar) => {
      await fs.writeFile(path.join(dir, 'extra.sh'), '#!/bin/sh\n');
      await execa('tar', ['-cf', tar, '-C', dir, ...MEMBERS, 'extra.sh']);
    });
    await refused(
      readBuildRequest(changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'UNSAFE_TAR',
      /"extra\.sh" is not listed in hello_1\.0-1\.dsc/,
    );
  });

  it('refuse a source file that does not match its .dsc', async () => {
    const changes = await withTar(async (dir, tar) => {
      await fs.writeFile(path.join(dir, 'hello_1.0-1.debian.tar.xz'), randomBytes(700));
      await execa('tar', ['-cf', tar, '-C', dir, ...MEMBERS]);
    });
    await refused(
      readBuildRequest(changes, [packager.key], path.join(tmp, `extract-${++n}`)),
      'CHECKSUM_MISMATCH',
      /hello_1\.0-1\.debian\.tar\.xz does not match hello_1\.0-1\.dsc/,
    );
  });
});

describe('build results', () => {
  const RESULT: BuildResultFields = {
    distribution: 'bookworm-test-unstable',
    source: 'hello',
    version: '1.0-1',
    architecture: 'amd64',
    timecode: REQUEST.timecode,
    builder: 'http://grover:8066',
    buildlog: REQUEST.buildlog,
    uploadTo: REQUEST.uploadTo,
    sbuildStatus: 'successful',
    result: BuildResult.SUCCESSFUL,
    failStage: null,
    reason: 'built',
    lintian: QaResult.WARN,
    autopkgtest: QaResult.NOT_RUN,
    sbuildSeconds: 42.5,
    qaSeconds: 3,
    canceledBy: null,
    internalError: null,
  };

  async function buildOutput() {
    const dir = await freshDir('build');
    const log = path.join(dir, 'build.log');
    await fs.writeFile(log, 'sbuild says hello\nStatus: successful\n');
    const files = {
      'hello_1.0-1_amd64.deb': randomBytes(2000),
      'hello_1.0-1_amd64.buildinfo': Buffer.from('Format: 1.0\n'),
    };
    const changes = await writeControl(
      dir,
      'hello_1.0-1_amd64.changes',
      { Format: '1.8', Source: 'hello', Version: '1.0-1', Architecture: 'amd64' },
      files,
      true,
    );
    return { log, changes, files };
  }

  it('carry the log and sbuild’s .changes with its files, and read back equal', async () => {
    const b = await buildOutput();
    const out = await freshDir('out');
    const w = await writeBuildResult(out, RESULT, b.log, b.changes, builder.sign);
    assert.equal(path.basename(w.changes), 'hello_1.0-1_mini-buildd-buildresult_amd64.changes');
    assert.deepEqual(
      w.files.map((f) => path.basename(f)),
      [
        'hello_1.0-1_amd64.buildlog',
        'hello_1.0-1_amd64.changes.tar',
        'hello_1.0-1_mini-buildd-buildresult_amd64.changes',
      ],
    );
    const body = parseSingleParagraph(stripClearsign(await fs.readFile(w.changes, 'utf8')));
    assert.equal(body.get('X-Mini-Buildd-Sbuild-Status'), 'successful');
    assert.equal(body.get('X-Mini-Buildd-Sbuild-Lintian'), 'warn');
    assert.equal(body.has('X-Mini-Buildd-Sbuild-Autopkgtest'), false, 'a check that did not run is not reported');
    assert.equal(body.get('X-Debyard-Result'), 'SUCCESSFUL');

    const dest = path.join(tmp, `extract-${++n}`);
    const r = await readBuildResult(w.changes, [builder.key], dest);
    assert.deepEqual(r.fields, RESULT);
    assert.equal(r.signedBy, builder.fingerprint);
    assert.equal(await fs.readFile(r.log, 'utf8'), 'sbuild says hello\nStatus: successful\n');
    assert.equal(r.binaryChanges, path.join(dest, 'hello_1.0-1_amd64.changes'));
    assert.deepEqual(await fs.readFile(r.binaryChanges), await fs.readFile(b.changes));
    for (const [f, bytes] of Object.entries(b.files)) assert.deepEqual(await fs.readFile(path.join(dest, f)), bytes);
  });

  it('of a failed build carry the log only', async () => {
    const b = await buildOutput();
    const failed: BuildResultFields = {
      ...RESULT,
      sbuildStatus: sbuildStatusFor(BuildResult.FAILED),
      result: BuildResult.FAILED,
      failStage: 'build',
      reason: 'dpkg-buildpackage failed',
      lintian: QaResult.NOT_RUN,
      sbuildSeconds: null,
      qaSeconds: null,
    };
    const w = await writeBuildResult(await freshDir('out'), failed, b.log, null, builder.sign);
    assert.deepEqual(
      w.files.map((f) => path.basename(f)),
      ['hello_1.0-1_amd64.buildlog', 'hello_1.0-1_mini-buildd-buildresult_amd64.changes'],
    );
    const r = await readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`));
    assert.deepEqual(r.fields, failed);
    assert.equal(r.fields.sbuildStatus, 'attempted');
    assert.equal(r.binaryChanges, null);
  });

  it('from mini-buildd (no X-Debyard fields) are read from sbuild’s status', async () => {
    const dir = await freshDir('mini-buildd');
    const log = Buffer.from('Status: given-back\n');
    await fs.writeFile(path.join(dir, 'hello_1.0-1_amd64.buildlog'), log);
    const text = formatDeb822([
      {
        Distribution: 'bookworm-test-unstable',
        Source: 'hello',
        Version: '1.0-1',
        Architecture: 'amd64',
        'X-Mini-Buildd-Timecode': '20261206-080000.123456',
        'X-Mini-Buildd-Builder': 'http://grover:8066',
        'X-Mini-Buildd-Buildlog': 'x/hello_1.0-1_amd64.buildlog',
        'X-Mini-Buildd-Upload-To': 'ftp://ernie:8067/',
        'X-Mini-Buildd-Sbuild-Status': 'given-back',
        'X-Mini-Buildd-Sbuild-Lintian': 'info',
        'X-Mini-Buildd-Sbuild-Autopkgtest': 'no tests',
        'X-Mini-Buildd-Sbuild-Build-Time': '17',
        Files: `\n${md5(log)} ${log.length} mini-buildd extra hello_1.0-1_amd64.buildlog`,
      },
    ]);
    const changes = path.join(dir, 'hello_1.0-1_mini-buildd-buildresult_amd64.changes');
    await fs.writeFile(changes, await builder.sign(text));
    const r = await readBuildResult(changes, [builder.key], path.join(tmp, `extract-${++n}`));
    assert.equal(r.fields.result, BuildResult.GIVEN_BACK);
    assert.equal(r.fields.lintian, QaResult.PASS);
    assert.equal(r.fields.autopkgtest, QaResult.WARN);
    assert.equal(r.fields.sbuildSeconds, 17);
    assert.equal(r.fields.failStage, null);
  });

  it('are not written with a multi-line reason, a status sbuild does not have or negative seconds', async () => {
    const b = await buildOutput();
    const out = await freshDir('out');
    const reason = 'E: dpkg-buildpackage failed\n  exit 2';
    await refused(
      writeBuildResult(out, { ...RESULT, reason }, b.log, null, builder.sign),
      'MALFORMED_TRANSFER',
      /X-Debyard-Reason holds a line break/,
    );
    await refused(
      writeBuildResult(out, { ...RESULT, sbuildStatus: 'great' }, b.log, null, builder.sign),
      'MALFORMED_TRANSFER',
      /Sbuild-Status "great"/,
    );
    await refused(
      writeBuildResult(out, { ...RESULT, qaSeconds: -1 }, b.log, null, builder.sign),
      'MALFORMED_TRANSFER',
      /qaSeconds -1 is not a number of seconds/,
    );
    const w = await writeBuildResult(out, { ...RESULT, reason: fieldText(reason) }, b.log, null, builder.sign);
    const r = await readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`));
    assert.equal(r.fields.reason, 'E: dpkg-buildpackage failed exit 2');
  });

  it('are refused when signed by another key than the builder’s', async () => {
    const b = await buildOutput();
    const w = await writeBuildResult(await freshDir('out'), RESULT, b.log, b.changes, stranger.sign);
    await refused(
      readBuildResult(w.changes, [builder.key, packager.key], path.join(tmp, `extract-${++n}`)),
      'UNKNOWN_KEY',
      new RegExp(stranger.fingerprint),
    );
  });

  it('are refused when the log is not the one signed for', async () => {
    const b = await buildOutput();
    const w = await writeBuildResult(await freshDir('out'), RESULT, b.log, b.changes, builder.sign);
    await fs.writeFile(w.files[0]!, 'sbuild says hellO\nStatus: successful\n');
    await refused(
      readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`)),
      'CHECKSUM_MISMATCH',
      /hello_1\.0-1_amd64\.buildlog does not match/,
    );
  });

  it('are refused when they list a file that is neither the log nor the binary tar', async () => {
    const b = await buildOutput();
    const w = await writeBuildResult(await freshDir('out'), RESULT, b.log, null, builder.sign);
    await fs.writeFile(path.join(path.dirname(w.changes), 'run-me.sh'), 'x');
    await resign(w.changes, builder, (p) => {
      p.set('Files', `${p.get('Files')}\n${md5('x')} 1 mini-buildd extra run-me.sh`);
      p.set('Checksums-Sha256', `${p.get('Checksums-Sha256')}\n${sha256('x')} 1 run-me.sh`);
    });
    await refused(
      readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`)),
      'MALFORMED_TRANSFER',
      /Files must list one \.buildlog and at most one \.changes\.tar \(it lists .*run-me\.sh\)/,
    );
  });

  it('are refused without Sbuild-Status', async () => {
    const b = await buildOutput();
    const w = await writeBuildResult(await freshDir('out'), RESULT, b.log, null, builder.sign);
    await resign(w.changes, builder, (p) => p.delete('X-Mini-Buildd-Sbuild-Status'));
    await refused(
      readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`)),
      'MALFORMED_TRANSFER',
      /has no X-Mini-Buildd-Sbuild-Status field/,
    );
  });

  it('are refused when the binary tar holds a file its .changes does not list', async () => {
    const b = await buildOutput();
    const w = await writeBuildResult(await freshDir('out'), RESULT, b.log, b.changes, builder.sign);
    const dir = path.dirname(b.changes);
    await fs.writeFile(path.join(dir, 'postinst'), 'rm -rf /\n');
    await execa('tar', [
      '-cf',
      w.files[1]!,
      '-C',
      dir,
      'hello_1.0-1_amd64.changes',
      'hello_1.0-1_amd64.deb',
      'hello_1.0-1_amd64.buildinfo',
      'postinst',
    ]);
    await resign(w.changes, builder);
    await refused(
      readBuildResult(w.changes, [builder.key], path.join(tmp, `extract-${++n}`)),
      'UNSAFE_TAR',
      /"postinst" is not listed in hello_1\.0-1_amd64\.changes/,
    );
  });
});

describe('ftpUpload', () => {
  let ftpd: Ftpd;
  let incoming: string;
  const sessions: FtpSession[] = [];

  before(async () => {
    incoming = await freshDir('incoming');
    const pasv = 40000 + Math.floor(Math.random() * 2000) * 10;
    ftpd = new Ftpd({
      host: '127.0.0.1',
      port: 0,
      incomingDir: incoming,
      passivePorts: { min: pasv, max: pasv + 9 },
      maxFileSize: 10 * 1024 * 1024,
      idleTimeoutMs: 5000,
      logger: quiet,
      onSessionEnd: async (s) => {
        sessions.push(s);
      },
    });
    await ftpd.start();
  });
  after(async () => {
    await ftpd.stop();
  });

  it('sends a transfer into another instance’s incoming, byte for byte, the .changes last', async () => {
    const w = await writeRequest();
    await ftpUpload(ftpd.url.replace(/\/?$/, '/'), [w.changes, w.files[0]!]);
    for (const f of w.files)
      assert.deepEqual(await fs.readFile(path.join(incoming, path.basename(f))), await fs.readFile(f));
    const deadline = Date.now() + 5000;
    while (sessions.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      sessions[0]!.files.map((f) => [f.name, f.complete]),
      [
        ['hello_1.0-1_mini-buildd-buildrequest_amd64.changes.tar', true],
        ['hello_1.0-1_mini-buildd-buildrequest_amd64.changes', true],
      ],
    );
  });

  it('sends into the directory the URL names', async () => {
    const dir = await freshDir('ftp');
    const file = path.join(dir, 'x_1_mini-buildd-buildresult_amd64.changes');
    await fs.writeFile(file, 'result');
    await ftpUpload(`${ftpd.url.replace(/\/$/, '')}/incoming/`, [file]);
    assert.equal(await fs.readFile(path.join(incoming, path.basename(file)), 'utf8'), 'result');
    await refused(
      ftpUpload(`${ftpd.url.replace(/\/$/, '')}/elsewhere`, [file], 5000),
      'UPLOAD_FAILED',
      /failed while changing to \/elsewhere: the server answered 5\d\d/,
    );
  });

  it('fails with UPLOAD_FAILED naming the URL when nobody listens', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const file = path.join(await freshDir('ftp'), 'a.changes');
    await fs.writeFile(file, 'x');
    await refused(
      ftpUpload(`ftp://127.0.0.1:${port}/`, [file], 5000),
      'UPLOAD_FAILED',
      new RegExp(`ftp://127\\.0\\.0\\.1:${port}/ failed while connecting: ECONNREFUSED`),
    );
  });

  it('gives up with UPLOAD_FAILED when the server does not answer in time', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const file = path.join(await freshDir('ftp'), 'a.changes');
    await fs.writeFile(file, 'x');
    const t0 = Date.now();
    try {
      await refused(ftpUpload(`ftp://127.0.0.1:${port}/`, [file], 500), 'UPLOAD_FAILED', /while connecting: .*0\.5 s/);
      assert.ok(Date.now() - t0 < 5000, 'the timeout ends it');
    } finally {
      silent.close();
      // A connection the server still holds would keep close() from finishing; it ends with the process.
    }
  });

  it('fails with UPLOAD_FAILED when the server refuses a file', async () => {
    const file = path.join(await freshDir('ftp'), 'bad name.changes');
    await fs.writeFile(file, 'x');
    await refused(
      ftpUpload(ftpd.url, [file], 5000),
      'UPLOAD_FAILED',
      /while sending bad name\.changes: the server answered 5\d\d/,
    );
  });
});
