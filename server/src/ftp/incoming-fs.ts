import { constants } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { FileSystem, type FtpConnection } from 'ftp-srv';
import { checkFileName, containedPath, UnsafePathError } from '../util/paths.js';

/** The incoming directory is flat; `/incoming` is an alias of `/` so mini-buildd's dput.cf (`incoming = /incoming`) works. */
const VIRTUAL_DIRECTORIES = new Set(['/', '/incoming']);

/** Mode of a received file once it is complete, as mini-buildd does: nobody overwrites it. */
const COMPLETE_FILE_MODE = 0o440;

/**
 * The file name a STOR argument asks for: a plain name, optionally with a leading `/` (the only
 * directory there is). Throws an UnsafePathError saying what is wrong with anything else.
 */
export function uploadName(arg: string | null | undefined): string {
  if (!arg) throw new UnsafePathError('STOR needs a file name');
  return checkFileName(arg.startsWith('/') && !arg.startsWith('//') ? arg.slice(1) : arg);
}

export function alreadyExistsMessage(name: string): string {
  return `${name} already exists in incoming; uploaded files are never overwritten`;
}

/**
 * Why a STOR must be refused before any data moves (553, which dput reports as "leaving existing file
 * on the server and continuing"), or undefined when it may go ahead. The authoritative check is the
 * exclusive open in `write()`; this one gives clients the right reply code.
 */
export async function refuseUpload(dir: string, arg: string | null | undefined): Promise<string | undefined> {
  let name: string;
  try {
    name = uploadName(arg);
  } catch (err) {
    if (err instanceof UnsafePathError) return err.message;
    throw err;
  }
  try {
    await lstat(containedPath(dir, name));
    return alreadyExistsMessage(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export type WriteOutcome = { ok: true } | { ok: false; reason: string };

/**
 * One file being received. Counts bytes and fails the transfer when the size cap is passed; writes
 * through its own file handle so that 'finish' means the data is on disk, closed and chmod 0440.
 * A file that does not finish is removed. `settled` resolves once either has happened; it is set by
 * the stream's own callbacks, never by events, because ftp-srv emits a synthetic 'close' (see below).
 */
export class IncomingFileWriter extends Writable {
  /** Bytes received so far (including the chunk that broke the size cap). */
  bytes = 0;
  /** When the file was complete on disk (Date.now()), if it was. */
  finishedAt: number | undefined;
  readonly settled: Promise<WriteOutcome>;
  private settle!: (outcome: WriteOutcome) => void;

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly file: FileHandle,
    private readonly maxSize: number,
    private readonly onData: () => void,
  ) {
    super();
    this.settled = new Promise((resolve) => (this.settle = resolve));
    // ftp-srv's STOR ends an upload with `stream.emit('close')` instead of `end()` when the stream has a
    // 'close' listener, and pipe() always adds one. Turn that synthetic close into the end of the data.
    this.on('close', () => {
      if (!this.destroyed && !this.writableEnded) this.end();
    });
  }

  /** Stops the transfer, removes what was written and records why. */
  abort(reason: string): void {
    if (!this.destroyed) this.destroy(new Error(reason));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.onData();
    this.bytes += chunk.length;
    if (this.bytes > this.maxSize) {
      callback(new Error(`${this.name} is larger than the limit of ${this.maxSize} bytes; the upload was stopped`));
      return;
    }
    writeAll(this.file, chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.file
      .chmod(COMPLETE_FILE_MODE)
      .then(() => this.file.close())
      .then(() => {
        if (this.destroyed) return callback();
        this.finishedAt = Date.now();
        this.settle({ ok: true });
        callback();
      }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // ftp-srv destroys the stream after a successful STOR: keep the file then.
    if (this.finishedAt !== undefined) return callback(error);
    const reason = error?.message ?? 'the transfer was interrupted';
    this.file
      .close()
      .catch(() => undefined)
      .then(() => unlink(this.path))
      .catch(() => undefined)
      .then(() => {
        this.settle({ ok: false, reason });
        callback(error);
      });
  }
}

async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

export interface IncomingFsOptions {
  dir: string;
  maxFileSize: number;
  /** A file was opened for an upload. */
  onOpen(writer: IncomingFileWriter): void;
  /** Data arrived (keeps the session from timing out while its control connection is quiet). */
  onData(): void;
}

/** Upload-only view of the flat incoming directory for one FTP session. */
export class IncomingFileSystem extends FileSystem {
  private directory = '/';

  constructor(
    connection: FtpConnection,
    private readonly opts: IncomingFsOptions,
  ) {
    super(connection, { root: opts.dir, cwd: '/' });
  }

  override currentDirectory(): string {
    return this.directory;
  }

  override async chdir(target = '/'): Promise<string> {
    const resolved = path.posix.resolve(this.directory, target);
    if (!VIRTUAL_DIRECTORIES.has(resolved)) throw new Error('there are no directories here: upload to /');
    this.directory = resolved;
    return resolved;
  }

  override async list(): Promise<never[]> {
    return [];
  }

  override async write(fileName: string, opts: { append?: boolean; start?: unknown } = {}) {
    if (opts.append || opts.start) throw new Error('appending and resuming are not supported: upload whole files');
    const name = uploadName(fileName);
    const full = containedPath(this.opts.dir, name);
    let file: FileHandle;
    try {
      // O_EXCL: never overwrite; with O_CREAT it also refuses an existing symlink, O_NOFOLLOW to be sure.
      file = await open(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') throw new Error(alreadyExistsMessage(name));
      throw err;
    }
    const writer = new IncomingFileWriter(name, full, file, this.opts.maxFileSize, this.opts.onData);
    this.opts.onOpen(writer);
    return { stream: writer, clientPath: `/${name}` };
  }

  override async get(): Promise<never> {
    throw new Error('file information is not available: this server only receives uploads');
  }

  override async read(): Promise<never> {
    throw new Error('downloads are not available: this server only receives uploads');
  }

  override async delete(): Promise<never> {
    throw new Error('uploaded files cannot be deleted');
  }

  override async mkdir(): Promise<never> {
    throw new Error('directories cannot be created');
  }

  override async rename(): Promise<never> {
    throw new Error('uploaded files cannot be renamed');
  }

  override async chmod(): Promise<never> {
    throw new Error('file modes cannot be changed');
  }
}
