import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DomainError } from '../graphql/errors.js';
import { fetchSource, stripClearsign } from './dsc.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A .dsc listing the given files (name → content), optionally with fields left out or replaced. */
function dscText(files: Record<string, Buffer>, fields: Record<string, string | null> = {}): string {
  const all: Record<string, string | null> = {
    Format: '3.0 (native)',
    Source: 'hello-c',
    Binary: 'hello-c',
    Architecture: 'any all',
    Version: '1:1.0',
    Maintainer: 'Debyard Tests <tests@debyard.example.org>',
    'Checksums-Sha256':
      '\n' +
      Object.entries(files)
        .map(([name, data]) => ` ${sha256(data)} ${data.length} ${name}`)
        .join('\n'),
    ...fields,
  };
  return Object.entries(all)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}:${v!.startsWith('\n') ? v : ` ${v}`}`)
    .join('\n')
    .concat('\n');
}

function domainError(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof DomainError, `not a DomainError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('fetchSource', () => {
  let dir: string;
  let src: string;
  let server: http.Server;
  let base: string;
  const tarball = randomBytes(5000);
  let n = 0;
  const dest = () => path.join(dir, `dest-${++n}`);

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-dsc-test-'));
    src = path.join(dir, 'src');
    server = http.createServer((req, res) => {
      if (req.url!.startsWith('/hang')) return; // never answers
      fs.readFile(path.join(src, decodeURIComponent(req.url!.slice(1)))).then(
        (data) => res.end(data),
        () => {
          res.statusCode = 404;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await fs.rm(src, { recursive: true, force: true });
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'hello-c_1.0.tar.xz'), tarball);
    await fs.writeFile(path.join(src, 'hello-c_1.0.dsc'), dscText({ 'hello-c_1.0.tar.xz': tarball }));
  });

  async function assertGone(d: string) {
    await assert.rejects(fs.access(d), 'destDir is removed after a failure');
  }

  it('copies a local .dsc and its files, verified', async () => {
    const d = dest();
    const got = await fetchSource(path.join(src, 'hello-c_1.0.dsc'), d);
    assert.deepEqual(got, {
      dsc: path.join(d, 'hello-c_1.0.dsc'),
      source: 'hello-c',
      version: '1:1.0',
      architectures: ['any', 'all'],
    });
    assert.deepEqual((await fs.readdir(d)).sort(), ['hello-c_1.0.dsc', 'hello-c_1.0.tar.xz']);
    assert.deepEqual(await fs.readFile(path.join(d, 'hello-c_1.0.tar.xz')), tarball);
  });

  it('downloads over HTTP', async () => {
    const d = dest();
    const got = await fetchSource(`${base}/hello-c_1.0.dsc`, d);
    assert.equal(got.source, 'hello-c');
    assert.deepEqual(await fs.readFile(path.join(d, 'hello-c_1.0.tar.xz')), tarball);
  });

  it('reads a clearsigned .dsc and keeps it as it was', async () => {
    const body = dscText({ 'hello-c_1.0.tar.xz': tarball }, { Description: 'x\n - dashed line' });
    const signed = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA512',
      '',
      body.replace(/^-/gm, '- -').trimEnd(),
      '-----BEGIN PGP SIGNATURE-----',
      '',
      'iQEzBAEBCgAdFiEE',
      '-----END PGP SIGNATURE-----',
      '',
    ].join('\n');
    assert.equal(stripClearsign(signed), body);
    await fs.writeFile(path.join(src, 'hello-c_1.0.dsc'), signed);
    const d = dest();
    const got = await fetchSource(path.join(src, 'hello-c_1.0.dsc'), d);
    assert.equal(got.version, '1:1.0');
    assert.equal(await fs.readFile(got.dsc, 'utf8'), signed);
  });

  it('says DSC_NOT_FOUND for a missing .dsc, a 404 and a relative path', async () => {
    const d1 = dest();
    await assert.rejects(
      fetchSource(path.join(src, 'nope_1.0.dsc'), d1),
      domainError('DSC_NOT_FOUND', /cannot read .*nope_1\.0\.dsc: ENOENT/),
    );
    await assertGone(d1);
    const d2 = dest();
    await assert.rejects(
      fetchSource(`${base}/nope_1.0.dsc`, d2),
      domainError('DSC_NOT_FOUND', /GET http:\/\/127\.0\.0\.1:\d+\/nope_1\.0\.dsc answered 404/),
    );
    await assertGone(d2);
    await assert.rejects(fetchSource('src/hello-c_1.0.dsc', dest()), domainError('DSC_NOT_FOUND', /absolute path/));
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      fetchSource(`http://127.0.0.1:${port}/hello-c_1.0.dsc`, dest()),
      domainError('DSC_NOT_FOUND', /could not fetch http:\/\/127\.0\.0\.1:\d+\/hello-c_1\.0\.dsc: .*ECONNREFUSED/),
    );
  });

  it('gives up on a server that does not answer in time', async () => {
    const d = dest();
    await assert.rejects(
      fetchSource(`${base}/hang_1.0.dsc`, d, { timeoutMs: 200 }),
      domainError('DSC_NOT_FOUND', /could not fetch .*\/hang_1\.0\.dsc: no answer within 0\.2 s/),
    );
    await assertGone(d);
  });

  it('says DSC_INVALID and names what is wrong', async () => {
    const cases: [Record<string, string | null>, RegExp][] = [
      [{ 'Checksums-Sha256': null }, /hello-c_1\.0\.dsc has no Checksums-Sha256 field/],
      [{ Source: null }, /hello-c_1\.0\.dsc has no Source field/],
      [{ Version: '' }, /has no Version field/],
      [
        { 'Checksums-Sha256': '\n abc 12 hello-c_1.0.tar.xz' },
        /malformed Checksums-Sha256 line "abc 12 hello-c_1\.0\.tar\.xz"/,
      ],
      [{ 'Checksums-Sha256': `\n ${'a'.repeat(64)} 12 ../../etc/passwd` }, /unsafe file name: .*directory separator/],
    ];
    for (const [fields, pattern] of cases) {
      await fs.writeFile(path.join(src, 'hello-c_1.0.dsc'), dscText({ 'hello-c_1.0.tar.xz': tarball }, fields));
      const d = dest();
      await assert.rejects(fetchSource(path.join(src, 'hello-c_1.0.dsc'), d), domainError('DSC_INVALID', pattern));
      await assertGone(d);
    }
    await fs.writeFile(path.join(src, 'hello-c_1.0.dsc'), 'this is not deb822\n');
    await assert.rejects(
      fetchSource(path.join(src, 'hello-c_1.0.dsc'), dest()),
      domainError('DSC_INVALID', /not a valid \.dsc: hello-c_1\.0\.dsc:1: expected "Field: value"/),
    );
    await assert.rejects(
      fetchSource(path.join(src, 'hello-c_1.0.tar.xz'), dest()),
      domainError('DSC_INVALID', /not a \.dsc/),
    );
    await assert.rejects(fetchSource(`${base}/..%2Fx.dsc`, dest()), domainError('DSC_INVALID', /directory separator/));
  });

  it('says SOURCE_FILE_MISSING with the file and where it looked, and leaves nothing behind', async () => {
    await fs.rm(path.join(src, 'hello-c_1.0.tar.xz'));
    const d1 = dest();
    await assert.rejects(
      fetchSource(path.join(src, 'hello-c_1.0.dsc'), d1),
      domainError(
        'SOURCE_FILE_MISSING',
        new RegExp(
          `hello-c_1\\.0\\.tar\\.xz, listed in hello-c_1\\.0\\.dsc, was not found at ${src}/hello-c_1\\.0\\.tar\\.xz`,
        ),
      ),
    );
    await assertGone(d1);
    const d2 = dest();
    await assert.rejects(
      fetchSource(`${base}/hello-c_1.0.dsc`, d2),
      domainError(
        'SOURCE_FILE_MISSING',
        /hello-c_1\.0\.tar\.xz, listed in hello-c_1\.0\.dsc: GET http:.*\/hello-c_1\.0\.tar\.xz answered 404/,
      ),
    );
    await assertGone(d2);
  });

  it('says CHECKSUM_MISMATCH with expected and actual for a tampered or resized file', async () => {
    const tampered = Buffer.from(tarball);
    tampered[100] ^= 0xff;
    await fs.writeFile(path.join(src, 'hello-c_1.0.tar.xz'), tampered);
    const d1 = dest();
    await assert.rejects(
      fetchSource(`${base}/hello-c_1.0.dsc`, d1),
      domainError(
        'CHECKSUM_MISMATCH',
        new RegExp(
          `hello-c_1\\.0\\.tar\\.xz .* does not match hello-c_1\\.0\\.dsc: expected sha256 ${sha256(tarball)}, got ${sha256(tampered)}`,
        ),
      ),
    );
    await assertGone(d1);
    await fs.writeFile(path.join(src, 'hello-c_1.0.tar.xz'), tarball.subarray(0, 10));
    await assert.rejects(
      fetchSource(path.join(src, 'hello-c_1.0.dsc'), dest()),
      domainError('CHECKSUM_MISMATCH', /expected 5000 bytes, got 10$/),
    );
    await fs.writeFile(path.join(src, 'hello-c_1.0.tar.xz'), Buffer.concat([tarball, tarball]));
    await assert.rejects(
      fetchSource(path.join(src, 'hello-c_1.0.dsc'), dest()),
      domainError('CHECKSUM_MISMATCH', /expected 5000 bytes, got more/),
    );
  });
});
