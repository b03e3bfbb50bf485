import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { containedPath, UnsafePathError } from '../util/paths.js';

/** Repository identities, as the configuration model allows them. */
const REPOSITORY_NAME = /^[a-z0-9]+$/;
/** The only parts of a reprepro basedir apt needs; conf/, db/, logs and the rest stay private. */
const SERVED_TOPS = new Set(['dists', 'pool']);
/** Index files apt fetches by name, served as text so a browser shows them. */
const TEXT_NAMES = new Set(['Release', 'InRelease', 'Packages', 'Sources', 'Index', 'Translation']);

const CONTENT_TYPES: Record<string, string> = {
  '.gz': 'application/gzip',
  '.xz': 'application/x-xz',
  '.bz2': 'application/x-bzip2',
  '.zst': 'application/zstd',
  '.lz4': 'application/x-lz4',
  '.deb': 'application/vnd.debian.binary-package',
  '.udeb': 'application/vnd.debian.binary-package',
  '.ddeb': 'application/vnd.debian.binary-package',
  '.gpg': 'application/pgp-signature',
  '.asc': 'application/pgp-signature',
  '.dsc': 'text/plain; charset=utf-8',
  '.changes': 'text/plain; charset=utf-8',
  '.buildinfo': 'text/plain; charset=utf-8',
  '.tar': 'application/x-tar',
};

/** Content type by file name; the default is application/octet-stream, never a guess from the content. */
export function repositoryContentType(fileName: string): string {
  const base = path.basename(fileName);
  if (TEXT_NAMES.has(base) || /^(?:Contents|Translation)-[a-zA-Z0-9_-]+$/.test(base))
    return 'text/plain; charset=utf-8';
  return CONTENT_TYPES[path.extname(base)] ?? 'application/octet-stream';
}

class NotServed extends Error {
  constructor(readonly status: 400 | 404) {
    super(status === 400 ? 'Bad request' : 'Not found');
  }
}

/**
 * Splits the raw request path into decoded segments, refusing what could name something apt never
 * asks for: empty, `.`/`..` and dot-file segments, separators or NUL hidden by percent-encoding.
 */
function segmentsOf(rawPath: string): string[] {
  const parts = rawPath.replace(/^\/+/, '').split('/');
  const trailingSlash = parts.length > 1 && parts[parts.length - 1] === '';
  if (trailingSlash) parts.pop();
  return parts.map((raw) => {
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      throw new NotServed(400);
    }
    if (part === '' || part.startsWith('.') || /[/\\\0]/.test(part)) throw new NotServed(404);
    return part;
  });
}

/** Whether `inner` is `outer` or lies below it (both real, absolute paths). */
function isWithin(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

function sendText(res: Response, status: number, body: string): void {
  res.status(status).type('text/plain; charset=utf-8').set('Cache-Control', 'no-cache').send(body);
}

/**
 * The APT delivery of repositories, mounted at `/repositories`: serves `/<repo>/dists/**` and
 * `/<repo>/pool/**` from `<repositoriesDir>/<repo>/` read-only (Range, ETag, Last-Modified through
 * express's sendFile), plus plain-text indexes at `/<repo>/` and `/<repo>/dists/`. Everything else
 * is 404; a file whose real path leaves the repository's dists/ or pool/ (a symlink) is 404 too.
 */
export function repositoryRouter(repositoriesDir: string): express.Router {
  const root = path.resolve(repositoriesDir);
  const router = express.Router();

  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      sendText(res, 405, 'Method not allowed\n');
      return;
    }
    // The bare /repositories is the console's repository page, not an APT path.
    if (req.path === '/' && req.method === 'GET') return next();
    try {
      const segments = segmentsOf(req.path);
      const [repo, top, ...rest] = segments;
      if (repo === undefined || !REPOSITORY_NAME.test(repo)) throw new NotServed(404);
      const repoDir = containedPath(root, repo);

      if (top === undefined) {
        if ((await realOrNull(repoDir)) === null) throw new NotServed(404);
        sendText(res, 200, 'dists/\npool/\n');
        return;
      }
      if (!SERVED_TOPS.has(top)) throw new NotServed(404);
      const topReal = await realOrNull(containedPath(repoDir, top));
      if (topReal === null) throw new NotServed(404);

      const requested = containedPath(repoDir, [top, ...rest].join('/'));
      const real = await realOrNull(requested);
      if (real === null || !isWithin(topReal, real)) throw new NotServed(404);
      const info = await stat(real);

      if (info.isDirectory()) {
        if (top !== 'dists' || rest.length > 0) throw new NotServed(404);
        const entries = await readdir(real, { withFileTypes: true });
        const names = entries
          .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink()))
          .map((e) => `${e.name}/\n`)
          .sort();
        sendText(res, 200, names.join(''));
        return;
      }
      if (!info.isFile()) throw new NotServed(404);

      res.set('Content-Type', repositoryContentType(real));
      // Index files change in place and must be revalidated; pool files never change under one name.
      res.set('Cache-Control', top === 'dists' ? 'no-cache' : 'public, max-age=86400');
      // Send the real path relative to the real top: no symlink is followed after the check above.
      res.sendFile(
        path.relative(topReal, real),
        { root: topReal, dotfiles: 'deny', cacheControl: false, lastModified: true, acceptRanges: true },
        (err?: Error & { status?: number; statusCode?: number }) => {
          if (!err || res.headersSent) return;
          const status = err.status ?? err.statusCode;
          if (status === 404 || status === 403) sendText(res, 404, 'Not found\n');
          else next(err);
        },
      );
    } catch (err) {
      if (err instanceof NotServed) sendText(res, err.status, `${err.message}\n`);
      else if (err instanceof UnsafePathError) sendText(res, 404, 'Not found\n');
      else next(err);
    }
  });
  return router;
}
