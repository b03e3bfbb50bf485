import { unlink } from 'node:fs/promises';
import type { IncomingFileWriter } from './incoming-fs.js';

export interface ReceivedFile {
  name: string;
  size: number;
  /** false: connection dropped, size cap hit or an error; `reason` says which. Incomplete files are removed. */
  complete: boolean;
  reason?: string;
}

export interface FtpSession {
  id: string;
  remoteAddress: string;
  files: ReceivedFile[];
  /** The session's own directory, when sessions have one (FtpdOptions.sessionDirs). */
  dir?: string;
}

/**
 * How long the control connection must outlive the end of an upload's data for the upload to count
 * when the client sends no further command. A data connection's EOF cannot tell a finished upload
 * from a killed client (both close with FIN); a killed client's control connection closes at the
 * same moment, a live one stays to read the 226 reply and usually sends QUIT.
 */
export const ACKNOWLEDGE_GRACE_MS = 1000;

const TRUNCATED = 'the client disconnected as the data ended, without a further command; the upload may be truncated';

interface Upload {
  writer: IncomingFileWriter;
  acknowledged: boolean;
}

/** The uploads of one FTP connection, from connect to disconnect. */
export class UploadSession {
  private readonly uploads: Upload[] = [];
  private closedByServer = false;
  /** Set at login when the session has a directory of its own. */
  dir: string | undefined;

  constructor(
    readonly id: string,
    readonly remoteAddress: string,
  ) {}

  track(writer: IncomingFileWriter): void {
    this.uploads.push({ writer, acknowledged: false });
  }

  /** The client sent a command: every upload that had finished by now reached a living client. */
  clientSpoke(): void {
    for (const upload of this.uploads) if (upload.writer.finishedAt !== undefined) upload.acknowledged = true;
  }

  /** The server is closing this connection (stop, idle timeout): finished uploads are not suspect. */
  closeFromServer(): void {
    this.closedByServer = true;
  }

  /**
   * Called when the control connection has closed: aborts transfers whose data never ended (ftp-srv
   * leaves those streams open), waits for every file stream to settle and says what was received.
   */
  async finish(): Promise<FtpSession> {
    const closedAt = Date.now();
    for (const { writer } of this.uploads)
      if (!writer.writableEnded) writer.abort('the connection closed during the transfer');
    const files: ReceivedFile[] = [];
    for (const upload of this.uploads) {
      const { writer } = upload;
      const outcome = await writer.settled;
      const base = { name: writer.name, size: writer.bytes };
      if (!outcome.ok) {
        files.push({ ...base, complete: false, reason: outcome.reason });
      } else if (
        upload.acknowledged ||
        this.closedByServer ||
        closedAt - (writer.finishedAt ?? closedAt) >= ACKNOWLEDGE_GRACE_MS
      ) {
        files.push({ ...base, complete: true });
      } else {
        await unlink(writer.path).catch(() => undefined);
        files.push({ ...base, complete: false, reason: TRUNCATED });
      }
    }
    return { id: this.id, remoteAddress: this.remoteAddress, files, ...(this.dir ? { dir: this.dir } : {}) };
  }
}
