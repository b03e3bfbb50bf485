import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log.js';
import { checkFileName, containedPath, UnsafePathError } from '../util/paths.js';
import type { Intake } from './intake.js';
import { UploadVia } from './upload.entity.js';

export interface HttpUploadOptions {
  intake: Intake;
  /** Bytes per file: the FTP cap (`--ftp-max-file-size`). */
  maxFileSize: number;
  logger: Logger;
}

/** Mode of a completely written file, as FTP incoming: complete, and nobody overwrites it. */
const COMPLETE_FILE_MODE = 0o440;

class TooLarge extends Error {}

/**
 * dput's `http` method (`incoming = /upload/`): `PUT /upload/<file>` into `<data>/incoming/http/`,
 * with FTP's rules: safe plain names, the same size cap, never overwriting (409). 201 only once the
 * file is completely on disk; for a .changes (dput sends it last) only once it was handed over, so
 * dput reports an upload whose files are missing (422) instead of "done".
 */
export function httpUploadRouter(opts: HttpUploadOptions): Router {
  const router = express.Router();
  router.put('/:name', (req, res, next) => void receive(opts, req, res).catch(next));
  router.all('/{*rest}', (_req, res) => {
    res.status(405).setHeader('Allow', 'PUT').type('text/plain').send('upload with PUT /upload/<file name>\n');
  });
  return router;
}

async function receive({ intake, maxFileSize, logger }: HttpUploadOptions, req: Request, res: Response) {
  const reply = (status: number, message: string) => {
    // The body may still be arriving; close so the client stops sending it.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(status).type('text/plain').send(`${message}\n`);
  };
  if (!intake.accepting) return reply(503, 'uploads are not accepted while the engine is stopped; try again later');
  let name: string;
  try {
    name = checkFileName(String(req.params.name));
  } catch (err) {
    if (err instanceof UnsafePathError) return reply(400, err.message);
    throw err;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxFileSize)
    return reply(413, `${name} is larger than the limit of ${maxFileSize} bytes`);

  const dir = intake.incomingDir(UploadVia.HTTP);
  const full = containedPath(dir, name);
  let file: fs.FileHandle;
  try {
    // O_EXCL: never overwrite; with O_CREAT it also refuses an existing symlink, O_NOFOLLOW to be sure.
    file = await fs.open(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP')
      return reply(409, `${name} already exists in incoming; uploaded files are never overwritten`);
    throw err;
  }
  let size = 0;
  try {
    // Written through the handle itself: a FileHandle's own write stream keeps it from closing.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxFileSize) return callback(new TooLarge());
        writeAll(file, chunk).then(() => callback(), callback);
      },
    });
    await pipeline(req, sink);
    if (!req.complete || (declared !== undefined && size !== Number(declared)))
      throw new Error('the request body ended early');
    await file.chmod(COMPLETE_FILE_MODE);
  } catch (err) {
    await file.close().catch(() => undefined);
    await fs.unlink(full).catch(() => undefined);
    if (err instanceof TooLarge) return reply(413, `${name} is larger than the limit of ${maxFileSize} bytes`);
    logger.info({ name, err: (err as Error).message }, 'HTTP upload incomplete');
    if (!res.headersSent && !res.destroyed) reply(400, `${name} was not received completely`);
    return;
  }
  await file.close();
  const remoteAddress = normaliseAddress(req.socket.remoteAddress ?? '');
  logger.info({ name, size, remoteAddress }, 'HTTP upload received');
  if (!name.endsWith('.changes')) return reply(201, `received ${name} (${size} bytes)`);

  let result;
  try {
    result = await intake.handOver([{ name, path: full, size }], UploadVia.HTTP, remoteAddress);
  } catch (err) {
    // Let the client send the .changes again; its files wait in incoming for the grace period.
    await fs.unlink(full).catch(() => undefined);
    logger.error({ err, name }, 'handing an HTTP upload over failed');
    return reply(503, `${name} could not be handed over; upload the .changes again later`);
  }
  const incomplete = result.incomplete.find((i) => i.changesName === name);
  if (incomplete)
    return reply(
      422,
      `${name} was not accepted: ${incomplete.missing.join(', ')} did not arrive; upload its files first, the .changes last`,
    );
  const received = result.received.find((r) => r.changesName === name);
  reply(201, `received ${name} (${size} bytes): upload ${received?.id ?? '?'}`);
}

async function writeAll(file: fs.FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length;) offset += (await file.write(chunk, offset)).bytesWritten;
}

/** `::ffff:1.2.3.4` (IPv4 on an IPv6 socket) as `1.2.3.4`. */
function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}
