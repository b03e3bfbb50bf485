import fs from 'node:fs/promises';
import express, { type Router } from 'express';

/** Where the logs are: build logs by id, chroot logs by key (`bookworm-amd64`). */
export interface LogLocations {
  buildLog(id: number): string;
  chrootLog(key: string): string;
}

const BUILD_ID = /^\d{1,9}$/;
const CHROOT_KEY = /^[a-z0-9][a-z0-9.+-]*-[a-z0-9]+$/;

/**
 * Serves logs as plain text at `/logs/<build-id>` and `/logs/chroots/<key>`. They grow while a build
 * runs: Range requests let a client tail them; nothing is cached.
 */
export function logsRouter(where: LogLocations): Router {
  const router = express.Router();
  const send = (file: string, res: express.Response, next: express.NextFunction) =>
    void fs.stat(file).then(
      (st) => {
        if (!st.isFile()) {
          res.status(404).type('text/plain').send('no such log\n');
          return;
        }
        res.sendFile(
          file,
          {
            headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' },
            acceptRanges: true,
            etag: false,
            lastModified: true,
            dotfiles: 'allow',
          },
          (err) => err && !res.headersSent && next(err),
        );
      },
      () => void res.status(404).type('text/plain').send('no log yet: it starts when the build starts\n'),
    );
  router.get('/chroots/:key', (req, res, next) => {
    const key = req.params.key;
    if (CHROOT_KEY.test(key)) send(where.chrootLog(key), res, next);
    else res.status(404).type('text/plain').send('no such chroot\n');
  });
  router.get('/:id', (req, res, next) => {
    const id = req.params.id;
    if (BUILD_ID.test(id)) send(where.buildLog(Number(id)), res, next);
    else res.status(404).type('text/plain').send('no such build\n');
  });
  return router;
}
