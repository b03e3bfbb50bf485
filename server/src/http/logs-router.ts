import fs from 'node:fs/promises';
import path from 'node:path';
import express, { type Router } from 'express';

/** Where the logs are: build logs by id, chroot logs by key (`bookworm-amd64`). */
export interface LogLocations {
  buildLog(id: number): string;
  chrootLog(key: string): string;
}

const BUILD_ID = /^\d{1,9}$/;
const CHROOT_KEY = /^[a-z0-9][a-z0-9.+-]*-[a-z0-9]+$/;
const UPLOAD_ID = /^\d{1,9}$/;
const CHANGES_NAME = /^[a-z0-9][a-z0-9.+-]*_[A-Za-z0-9.+~-]+_[a-z0-9-]+\.changes$/;

/**
 * Serves logs as plain text at `/logs/<build-id>` and `/logs/chroots/<key>`. They grow while a build
 * runs: Range requests let a client tail them; nothing is cached.
 */
export function logsRouter(where: LogLocations): Router {
  const router = express.Router();
  router.get('/chroots/:key', (req, res, next) => {
    const key = req.params.key;
    if (CHROOT_KEY.test(key)) sendText(where.chrootLog(key), res, next);
    else notFound(res, 'no such chroot');
  });
  router.get('/:id', (req, res, next) => {
    const id = req.params.id;
    if (BUILD_ID.test(id)) sendText(where.buildLog(Number(id)), res, next);
    else notFound(res, 'no such build');
  });
  return router;
}

/** Serves each upload's .changes as it was received: `/uploads/<id>/<name>.changes`, never other spool files. */
export function uploadsRouter(spoolDir: string): Router {
  const router = express.Router();
  router.get('/:id/:file', (req, res, next) => {
    const { id, file } = req.params;
    if (UPLOAD_ID.test(id) && CHANGES_NAME.test(file)) sendText(path.join(spoolDir, id, file), res, next);
    else notFound(res, 'no such upload file');
  });
  return router;
}

function notFound(res: express.Response, what: string): void {
  res.status(404).type('text/plain').send(`${what}\n`);
}

/** A file as plain text with Range support, never cached; 404 while it does not exist (yet). */
function sendText(file: string, res: express.Response, next: express.NextFunction): void {
  void fs.stat(file).then(
    (st) => {
      if (!st.isFile()) return notFound(res, 'no such file');
      res.sendFile(
        file,
        {
          headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' },
          acceptRanges: true,
          etag: false,
          lastModified: true,
          dotfiles: 'allow',
        },
        (err) => {
          if (err && !res.headersSent) next(err);
        },
      );
    },
    () => notFound(res, 'not there (yet): a build log starts when the build starts'),
  );
}
