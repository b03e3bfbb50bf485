/*
 * The Packages files of a distribution's base source and extra sources (the Debian mirror), fetched for
 * the dependency check of migrations and cached under `<data>/mirrors/`: the Release is fetched and
 * its signature verified with the source's keys, each Packages file is taken only when the Release
 * names another checksum than the one cached, and it is checked against that checksum before use.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { fetchRelease } from '../archive/release-check.js';
import type { Logger } from '../log.js';
import { containedPath } from '../util/paths.js';

/** A source as the cache needs it (see the Source entity). */
export interface MirrorSource {
  origin: string;
  codename: string;
  archiveUrl: string;
  /** Armored keys that sign its Release. */
  armoredKeys: string[];
  /** Prefix of the archive's component names, e.g. `updates/` on debian-security. */
  removeFromComponent: string;
}

interface CacheState {
  releaseUrl: string;
  fetchedAt: number;
  /** Path under dists/<codename>/ of each index (`main/binary-amd64/Packages`) → SHA-256 of what is cached. */
  indices: Record<string, string>;
}

/** Release checksums: path → SHA-256 and size. */
export function releaseChecksums(release: string): Map<string, { sha256: string; size: number }> {
  const out = new Map<string, { sha256: string; size: number }>();
  const block = /^SHA256:[ \t]*\n((?:[ \t]+.*\n?)*)/m.exec(release)?.[1] ?? '';
  for (const line of block.split('\n')) {
    const m = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (m) out.set(m[3]!, { sha256: m[1]!, size: Number(m[2]) });
  }
  return out;
}

const COMPRESSIONS = ['.xz', '.gz', ''] as const;
const MAX_INDEX_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 300_000;

export class MirrorIndexCache {
  /** One refresh per source at a time; see {@link packages}. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    /** How long a verified Release is trusted before it is fetched again. */
    private readonly maxAgeMs = 10 * 60 * 1000,
  ) {}

  /**
   * The local Packages file of each of `components` that the source has for `architecture`
   * (components it lacks are left out), refreshed when its Release changed.
   */
  async packages(source: MirrorSource, components: string[], architecture: string): Promise<string[]> {
    const key = `${source.origin}_${source.codename}`.replace(/[^A-Za-z0-9._-]/g, '_');
    const previous = this.running.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.refresh(key, source, components, architecture),
      () => this.refresh(key, source, components, architecture),
    );
    this.running.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  private async refresh(key: string, source: MirrorSource, components: string[], arch: string): Promise<string[]> {
    const root = containedPath(this.dir, key);
    const stateFile = path.join(root, 'state.json');
    const state = (await readJson<CacheState>(stateFile)) ?? { releaseUrl: '', fetchedAt: 0, indices: {} };
    const wanted = components.map((c) => `${c}/binary-${arch}/Packages`);
    const fresh = Date.now() - state.fetchedAt < this.maxAgeMs;
    if (fresh && wanted.every((w) => w in state.indices || state.indices[`!${w}`] !== undefined))
      return wanted.filter((w) => w in state.indices).map((w) => containedPath(root, w));

    const keys = (await Promise.all(source.armoredKeys.map((k) => openpgp.readKeys({ armoredKeys: k })))).flat();
    const { text, releaseUrl } = await fetchRelease({ archiveUrl: source.archiveUrl, codename: source.codename, keys });
    const sums = releaseChecksums(text);
    const base = releaseUrl.slice(0, releaseUrl.lastIndexOf('/') + 1);
    const next: CacheState = { releaseUrl, fetchedAt: Date.now(), indices: {} };
    const found: string[] = [];
    for (const w of wanted) {
      // The Release names security's components with or without their updates/ prefix.
      const names = [source.removeFromComponent + w, w].filter((n, i, all) => all.indexOf(n) === i);
      const plain = names.find((n) => COMPRESSIONS.some((c) => sums.has(n + c)));
      if (!plain) {
        next.indices[`!${w}`] = '';
        continue;
      }
      const local = containedPath(root, w);
      // Cached by the checksum of the file fetched (the smallest compression the Release lists).
      const id = sums.get(plain + COMPRESSIONS.find((c) => sums.has(plain + c))!)!.sha256;
      const have = await fs.stat(local).catch(() => null);
      if (!(state.indices[w] === id && have)) await this.download(base, plain, sums, local);
      next.indices[w] = id;
      found.push(local);
    }
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(`${stateFile}.tmp`, JSON.stringify(next));
    await fs.rename(`${stateFile}.tmp`, stateFile);
    return found;
  }

  /** Fetches the smallest compression of `plain` the Release lists, checks it, unpacks it to `local`. */
  private async download(
    base: string,
    plain: string,
    sums: Map<string, { sha256: string; size: number }>,
    local: string,
  ): Promise<void> {
    const compression = COMPRESSIONS.find((c) => sums.has(plain + c))!;
    const expected = sums.get(plain + compression)!;
    if (expected.size > MAX_INDEX_BYTES) throw new Error(`${base}${plain}${compression} is ${expected.size} bytes`);
    const url = base + plain + compression;
    const started = performance.now();
    await fs.mkdir(path.dirname(local), { recursive: true });
    const packed = `${local}${compression}.part`;
    const res = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`${url} answers HTTP ${res.status}`);
    const hash = createHash('sha256');
    let size = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
      if (size > expected.size) body.destroy(new Error(`${url} is larger than its Release says`));
    });
    try {
      await pipeline(body, createWriteStream(packed));
      const sha256 = hash.digest('hex');
      if (sha256 !== expected.sha256 || size !== expected.size)
        throw new Error(`${url} does not match its Release (SHA-256 ${sha256}, ${size} bytes)`);
      const unpacked = `${local}.tmp`;
      if (compression === '.xz') await execa('xz', ['-dc', packed], { stdout: { file: unpacked } });
      else if (compression === '.gz')
        await pipeline(createReadStream(packed), createGunzip(), createWriteStream(unpacked));
      else await fs.rename(packed, unpacked);
      await fs.rename(unpacked, local);
    } finally {
      await fs.rm(packed, { force: true });
    }
    this.logger.info({ url, bytes: size, ms: Math.round(performance.now() - started) }, 'mirror index fetched');
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}
