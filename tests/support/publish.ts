/**
 * Checks of a published repository as apt sees it, shared by the publishing and mirror suites: Release
 * lists, by-hash names, signatures with gpgv and sqv, and a tiny static web server for copies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const SHA256_LINE = /^ ([0-9a-f]{64}) +(\d+) (\S+)$/;

export interface ReleaseEntry {
  sha256: string;
  size: number;
  path: string;
}

/** The SHA256 list of a Release text. */
export function sha256List(release: string): ReleaseEntry[] {
  const section = release.split(/^SHA256:\n/m)[1] ?? '';
  const out: ReleaseEntry[] = [];
  for (const line of section.split('\n')) {
    const m = SHA256_LINE.exec(line);
    if (!m) break;
    out.push({ sha256: m[1]!, size: Number(m[2]), path: m[3]! });
  }
  return out;
}

/** Where apt fetches an index by its hash, relative to the distribution. */
export const byHash = (e: { sha256: string; path: string }): string =>
  `${path.posix.dirname(e.path)}/by-hash/SHA256/${e.sha256}`.replace(/^\.\//, '');

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** reprepro lists the uncompressed Contents it never writes (`Contents: .gz`). */
export const unwritten = (p: string): boolean => /(?:^|\/)Contents-[a-z0-9-]+$/.test(p);

async function hasSqv(): Promise<boolean> {
  return (await execa('sqv', ['--version'], { reject: false })).exitCode === 0;
}

/**
 * A distribution's InRelease, Release and Release.gpg from `base` (…/repositories/test/ or a copy), checked
 * with gpgv and, where installed, sqv against `keyring` (a file); returns the Release they sign.
 */
export async function signedRelease(base: string, dist: string, keyring: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-release-'));
  try {
    for (const name of ['InRelease', 'Release', 'Release.gpg']) {
      const res = await fetch(`${base}dists/${dist}/${name}`);
      assert.equal(res.status, 200, `${dist}/${name}`);
      await fs.writeFile(path.join(dir, name), new Uint8Array(await res.arrayBuffer()));
    }
    const file = (name: string) => path.join(dir, name);
    const gpgv = await execa('gpgv', ['--keyring', keyring, '--output', '-', file('InRelease')], { reject: false });
    assert.equal(gpgv.exitCode, 0, gpgv.stderr);
    const release = await fs.readFile(file('Release'), 'utf8');
    assert.equal(`${gpgv.stdout}\n`, release, 'InRelease signs the Release');
    const detached = await execa('gpgv', ['--keyring', keyring, file('Release.gpg'), file('Release')], {
      reject: false,
    });
    assert.equal(detached.exitCode, 0, detached.stderr);
    if (await hasSqv()) {
      const sqv = await execa('sqv', ['--keyring', keyring, file('Release.gpg'), file('Release')], { reject: false });
      assert.equal(sqv.exitCode, 0, `sqv: ${sqv.stderr}`);
    }
    return release;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Every distribution under `distsDir` (on disk) carries Acquire-By-Hash, and every by-hash file its
 * Release lists exists with that content; returns how many were checked.
 */
export async function checkByHashOnDisk(distsDir: string): Promise<number> {
  let checked = 0;
  for (const dist of await fs.readdir(distsDir)) {
    const release = await fs.readFile(path.join(distsDir, dist, 'Release'), 'utf8');
    assert.match(release, /^Acquire-By-Hash: yes$/m, dist);
    for (const e of sha256List(release)) {
      if (unwritten(e.path)) continue;
      const content = await fs.readFile(path.join(distsDir, dist, byHash(e)));
      assert.equal(sha256(content), e.sha256, `${dist}/${byHash(e)}`);
      checked++;
    }
  }
  return checked;
}

/** Serves a directory read-only over HTTP on loopback, as any web space would; records the paths asked for. */
export async function serveDirectory(
  root: string,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push(rel);
      const file = path.resolve(root, `.${rel}`);
      const info = await fs.stat(file).catch(() => null);
      if (!file.startsWith(`${root}/`) || !info?.isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': info.size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
