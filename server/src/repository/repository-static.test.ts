import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { execa } from 'execa';
import { pino } from 'pino';
import { Reprepro } from './reprepro.js';
import { repositoryContentType, repositoryRouter } from './repository-static.js';
import { createThrowawayKey, stopGpgAgent, type ThrowawayKey } from './throwaway-key.js';

const quiet = pino({ level: process.env.DEBYARD_TEST_LOG ?? 'silent' });
const DIST = 'bookworm-test-unstable';
const DEB = 'pool/main/h/hello-web/hello-web_1.0_all.deb';

let tmp: string;
let repositories: string;
let key: ThrowawayKey;
let other: ThrowawayKey;
let server: http.Server;
let port: number;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would normalise `..` away). */
function request(rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** apt-get update against the served repository without touching the system's apt state. */
async function aptUpdate(keyring: string): Promise<{ exitCode: number; output: string; lists: string }> {
  const dir = await mkdtemp(path.join(tmp, 'apt-'));
  const lists = path.join(dir, 'lists');
  await mkdir(path.join(lists, 'partial'), { recursive: true });
  await mkdir(path.join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  await writeFile(
    path.join(dir, 'sources.list'),
    `deb [signed-by=${keyring}] http://127.0.0.1:${port}/repositories/test ${DIST} main\n`,
  );
  const options = {
    'Dir::Etc::sourcelist': path.join(dir, 'sources.list'),
    'Dir::Etc::sourceparts': '/nonexistent',
    'Dir::State::Lists': lists,
    'Dir::Cache': path.join(dir, 'cache'),
    'APT::Update::Error-Mode': 'any',
    'Acquire::Languages': 'none',
    'Acquire::http::Proxy': 'DIRECT',
    // As root apt drops to _apt for downloads, which cannot write into a 0700 temporary directory.
    ...(process.getuid?.() === 0 ? { 'APT::Sandbox::User': 'root' } : {}),
  };
  const args = Object.entries(options).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
  const result = await execa('apt-get', [...args, 'update'], { reject: false, all: true, env: { LC_ALL: 'C' } });
  return { exitCode: result.exitCode ?? -1, output: String(result.all), lists };
}

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'debyard-repo-http-'));
  key = await createThrowawayKey(tmp);
  other = await createThrowawayKey(await mkdtemp(path.join(tmp, 'other-')), 'Other');
  repositories = path.join(tmp, 'repositories');

  const reprepro = new Reprepro({ basedir: path.join(repositories, 'test'), gnupgHome: key.gnupgHome, logger: quiet });
  await reprepro.configure([
    {
      codename: DIST,
      origin: 'Debyard archive test',
      components: ['main'],
      architectures: ['amd64'],
      description: DIST,
      notAutomatic: false,
      butAutomaticUpgrades: false,
      signWith: key.fingerprint,
    },
  ]);
  await reprepro.export();

  // One real package, so Packages is not empty and pool/ has a .deb to fetch in ranges.
  const pkg = path.join(tmp, 'hello-web');
  await mkdir(path.join(pkg, 'DEBIAN'), { recursive: true });
  await mkdir(path.join(pkg, 'usr/share/doc/hello-web'), { recursive: true });
  await writeFile(path.join(pkg, 'usr/share/doc/hello-web/README'), 'hello\n'.repeat(200));
  await writeFile(
    path.join(pkg, 'DEBIAN/control'),
    'Package: hello-web\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.invalid>\n' +
      'Section: misc\nPriority: optional\nDescription: test package\n',
  );
  const deb = path.join(tmp, 'hello-web_1.0_all.deb');
  await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', pkg, deb]);
  await reprepro.run(['includedeb', DIST, deb]);

  // Things that must never be served.
  await mkdir(path.join(repositories, 'test', 'logs'));
  await writeFile(path.join(repositories, 'test', 'logs', 'log.txt'), 'private\n');
  await writeFile(path.join(repositories, 'test', 'dists', '.hidden'), 'private\n');
  await symlink('/etc/passwd', path.join(repositories, 'test', 'pool', 'main', 'passwd'));
  await symlink('/etc', path.join(repositories, 'test', 'dists', 'etc'));
  await symlink('../../conf/distributions', path.join(repositories, 'test', 'dists', DIST, 'conf-link'));

  const app = express();
  app.use('/repositories', repositoryRouter(repositories));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server?.close();
  await stopGpgAgent(key);
  await stopGpgAgent(other);
  await rm(tmp, { recursive: true, force: true });
});

describe('repositoryRouter', () => {
  test('apt-get update succeeds against the signed repository with its key', async () => {
    const apt = await aptUpdate(key.keyring);
    assert.equal(apt.exitCode, 0, apt.output);
    assert.match(apt.output, new RegExp(`Get:\\d+ http://127\\.0\\.0\\.1:${port}/repositories/test ${DIST} InRelease`));
    const lists = await execa('ls', [apt.lists]);
    assert.match(lists.stdout, /_repositories_test_dists_bookworm-test-unstable_main_binary-amd64_Packages/);
  });

  test('apt-get update fails with a key that did not sign it', async () => {
    const apt = await aptUpdate(other.keyring);
    assert.notEqual(apt.exitCode, 0);
    assert.match(apt.output, /NO_PUBKEY|is not signed/);
  });

  test('serves index and pool files with the right content types and caching', async () => {
    const cases: Array<[string, string]> = [
      [`dists/${DIST}/InRelease`, 'text/plain; charset=utf-8'],
      [`dists/${DIST}/Release`, 'text/plain; charset=utf-8'],
      [`dists/${DIST}/Release.gpg`, 'application/pgp-signature'],
      [`dists/${DIST}/main/binary-amd64/Packages`, 'text/plain; charset=utf-8'],
      [`dists/${DIST}/main/binary-amd64/Packages.gz`, 'application/gzip'],
      [`dists/${DIST}/main/binary-amd64/Packages.xz`, 'application/x-xz'],
      [`dists/${DIST}/main/source/Sources.xz`, 'application/x-xz'],
      [`dists/${DIST}/Contents-amd64.gz`, 'application/gzip'],
      [DEB, 'application/vnd.debian.binary-package'],
    ];
    for (const [file, type] of cases) {
      const res = await request(`/repositories/test/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers['content-type'], type, file);
      assert.equal(res.headers['content-encoding'], undefined, file);
      assert.deepEqual(res.body, await readFile(path.join(repositories, 'test', file)), file);
    }
    const packages = await request(`/repositories/test/dists/${DIST}/main/binary-amd64/Packages`);
    assert.match(packages.body.toString(), /^Filename: pool\/main\/h\/hello-web\/hello-web_1\.0_all\.deb$/m);
    assert.equal(packages.headers['cache-control'], 'no-cache');
    assert.match(String((await request(`/repositories/test/${DEB}`)).headers['cache-control']), /max-age=/);
    const head = await request(`/repositories/test/${DEB}`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('Range requests return 206 with exactly those bytes', async () => {
    const whole = await readFile(path.join(repositories, 'test', DEB));
    const res = await request(`/repositories/test/${DEB}`, { Range: 'bytes=100-199' });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], `bytes 100-199/${whole.length}`);
    assert.deepEqual(res.body, whole.subarray(100, 200));
    const tail = await request(`/repositories/test/${DEB}`, { Range: 'bytes=-10' });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, whole.subarray(whole.length - 10));
    const beyond = await request(`/repositories/test/${DEB}`, { Range: `bytes=${whole.length + 10}-` });
    assert.equal(beyond.status, 416);
  });

  test('ETag and Last-Modified make conditional requests answer 304', async () => {
    const url = `/repositories/test/dists/${DIST}/InRelease`;
    const first = await request(url);
    const etag = first.headers.etag;
    const lastModified = first.headers['last-modified'];
    assert.ok(etag, 'no ETag');
    assert.ok(lastModified, 'no Last-Modified');
    assert.equal((await request(url, { 'If-None-Match': etag })).status, 304);
    assert.equal((await request(url, { 'If-Modified-Since': lastModified })).status, 304);
    assert.equal((await request(url, { 'If-None-Match': '"something-else"' })).status, 200);
  });

  test('never serves conf/, db/, logs, dot files, escapes or symlinks that leave dists/ and pool/', async () => {
    const refused = [
      '/repositories/test/conf/distributions',
      '/repositories/test/conf/options',
      '/repositories/test/db/packages.db',
      '/repositories/test/db/',
      '/repositories/test/logs/log.txt',
      '/repositories/test/dists/.hidden',
      '/repositories/test/dists/%2ehidden',
      '/repositories/test/../../etc/passwd',
      '/repositories/test/dists/../../../../../etc/passwd',
      '/repositories/test/dists/../conf/distributions',
      '/repositories/test/%2e%2e/%2e%2e/etc/passwd',
      '/repositories/test/dists/%2e%2e/conf/distributions',
      '/repositories/test/dists/..%2fconf%2fdistributions',
      '/repositories/test/dists/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/repositories/test/dists/x%00/Release',
      '/repositories/test/pool/main/passwd',
      '/repositories/test/dists/etc/passwd',
      `/repositories/test/dists/${DIST}/conf-link`,
      '/repositories/test//etc/passwd',
      '/repositories//etc/passwd',
      '/repositories/Bad/dists/x',
      '/repositories/te.st/dists/x',
      '/repositories/nothere/dists/x',
      '/repositories/nothere/',
      `/repositories/test/dists/${DIST}/main/`,
      '/repositories/test/pool/',
      '/repositories/test/dists/%zz',
    ];
    for (const url of refused) {
      const res = await request(url);
      assert.ok(res.status === 404 || res.status === 400, `${url} → ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /root:|Codename|private|SQLite/, url);
    }
    assert.equal((await request('/repositories/test/dists/%zz')).status, 400);
    const post = await request(`/repositories/test/dists/${DIST}/InRelease`, {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  test('plain-text indexes at /<repo>/ and /<repo>/dists/', async () => {
    const top = await request('/repositories/test/');
    assert.equal(top.status, 200);
    assert.equal(top.body.toString(), 'dists/\npool/\n');
    const dists = await request('/repositories/test/dists/');
    assert.equal(dists.status, 200);
    assert.match(dists.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(dists.body.toString(), new RegExp(`^${DIST}/$`, 'm'));
    assert.doesNotMatch(dists.body.toString(), /hidden/);
  });

  test('content types by file name', () => {
    assert.equal(repositoryContentType('Packages'), 'text/plain; charset=utf-8');
    assert.equal(repositoryContentType('x_1.0_amd64.udeb'), 'application/vnd.debian.binary-package');
    assert.equal(repositoryContentType('x_1.0.orig.tar.xz'), 'application/x-xz');
    assert.equal(repositoryContentType('x_1.0.dsc'), 'text/plain; charset=utf-8');
    assert.equal(repositoryContentType('something.bin'), 'application/octet-stream');
  });
});
