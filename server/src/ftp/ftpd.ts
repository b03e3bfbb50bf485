import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { isIPv4, isIPv6, type Socket } from 'node:net';
import { FtpSrv, type FtpConnection } from 'ftp-srv';
import type { Logger } from '../log.js';
import { ALLOWED_COMMANDS, FEATURES, refusedCommands } from './commands.js';
import { IncomingFileSystem, refuseUpload } from './incoming-fs.js';
import { UploadSession, type FtpSession } from './session.js';

export type { FtpSession, ReceivedFile } from './session.js';

export interface FtpdOptions {
  /** Listen address; `0.0.0.0` or `::` for all. */
  host: string;
  /** Listen port; 0 picks a free one (`url` then reports it). */
  port: number;
  /** `<data>/incoming`; must exist. */
  incomingDir: string;
  /**
   * Give each session a directory of its own under `<incomingDir>/sessions/` (the daemon does): two
   * clients uploading files of the same name at once cannot mix them, and the session end hands over
   * exactly what that session sent. Without it, every session writes into incomingDir itself.
   */
  sessionDirs?: boolean;
  passivePorts: { min: number; max: number };
  /** Bytes per file. */
  maxFileSize: number;
  /** Closes a control connection idle this long; data still moving in an upload counts as activity. 0: never. */
  idleTimeoutMs: number;
  /** Concurrent connections per remote address (default 10). */
  maxSessionsPerIp?: number;
  logger: Logger;
  /** Called once per session that opened at least one file, after every file stream has settled. */
  onSessionEnd(session: FtpSession): Promise<void>;
}

/** User names that log in; any password is accepted (it is an e-mail address by convention). */
const ANONYMOUS_USERS = new Set(['anonymous', 'ftp']);
const DEFAULT_MAX_SESSIONS_PER_IP = 10;
const FTP_SRV_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/** The parts of ftp-srv 4.6.3's connection that its typings leave out (read from its src/). */
interface ConnectionInternals {
  id: string;
  authenticated?: boolean;
  commandSocket: Socket;
  connector: { end(): void };
  commands: {
    parse(message: string): ParsedCommand;
    handle(command: string | ParsedCommand): PromiseLike<unknown>;
  };
  reply(options: number | object, ...letters: unknown[]): PromiseLike<unknown>;
}

interface ParsedCommand {
  directive: string;
  arg: string | null;
}

interface LiveSession {
  connection: ConnectionInternals;
  session: UploadSession;
  /** Where this session's files go. */
  dir: string;
}

class FtpReplyError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Anonymous, upload-only FTP incoming (ftp-srv): STOR of plain file names into one flat directory,
 * passive mode only. Reports each session's files when its connection closes. Can be started and
 * stopped repeatedly in one process.
 */
export class Ftpd {
  private server: FtpSrv | undefined;
  private starting = false;
  private port: number;
  private readonly log: Logger;
  private readonly live = new Map<string, LiveSession>();
  private readonly ending = new Set<Promise<void>>();

  constructor(private readonly opts: FtpdOptions) {
    this.port = opts.port;
    this.log = opts.logger;
  }

  /** ftp://host:port, with the real port once started on port 0. */
  get url(): string {
    const host = isIPv6(this.opts.host) ? `[${this.opts.host}]` : this.opts.host;
    return `ftp://${host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server || this.starting) throw new Error('the FTP server is already running');
    this.starting = true;
    try {
      await this.listen();
    } finally {
      this.starting = false;
    }
  }

  private async listen(): Promise<void> {
    const listenUrl = `ftp://${isIPv6(this.opts.host) ? `[${this.opts.host}]` : this.opts.host}:${this.opts.port}`;
    const server = withoutSignalHandlers(
      () =>
        new FtpSrv({
          url: listenUrl,
          anonymous: true,
          // ftp-srv 4.6.3 calls a function here with the client's address (src/commands/registration/pasv.js).
          pasv_url: ((clientIp: string) => this.passiveAddress(clientIp)) as unknown as string,
          pasv_min: this.opts.passivePorts.min,
          pasv_max: this.opts.passivePorts.max,
          blacklist: refusedCommands(),
          whitelist: [...ALLOWED_COMMANDS],
          greeting: 'debyard incoming: anonymous, upload only',
          log: this.log,
          // ftp-srv's own `timeout` would cut off long uploads and leave a timer of that length behind every
          // disconnect; the idle timeout is set per connection in accept().
          timeout: 0,
        }),
    );
    server.on('login', ({ connection, username }, resolve, reject) => {
      try {
        if (!ANONYMOUS_USERS.has(String(username).toLowerCase()))
          return reject(new Error('only anonymous uploads are accepted: log in as "anonymous"'));
        const live = this.live.get(connection.id);
        if (!live) return reject(new Error('this connection is closing'));
        if (this.opts.sessionDirs) {
          live.dir = path.join(this.opts.incomingDir, 'sessions', sessionDirName(connection.id));
          mkdirSync(live.dir, { recursive: true, mode: 0o750 });
          live.session.dir = live.dir;
        }
        resolve({
          fs: new IncomingFileSystem(connection, {
            dir: live.dir,
            maxFileSize: this.opts.maxFileSize,
            onOpen: (writer) => live.session.track(writer),
            onData: () => this.keepAlive(live.connection.commandSocket),
          }),
        });
      } catch (err) {
        this.log.error({ err }, 'FTP login failed');
        reject(new Error('login failed'));
      }
    });
    (server as unknown as EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) =>
      this.accept(connection as unknown as ConnectionInternals),
    );
    await server.listen();
    const address = (server as unknown as { server: { address(): { port: number } | null } }).server.address();
    this.port = address?.port ?? this.opts.port;
    this.server = server;
    this.log.info({ url: this.url }, 'FTP incoming listening');
  }

  /** Stops listening, cuts open sessions and waits until every session end has been reported. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const { session } of this.live.values()) session.closeFromServer();
    const pending = [...this.ending];
    try {
      await server.close();
    } catch (err) {
      this.log.error({ err }, 'closing the FTP server failed');
    }
    // ftp-srv's close() resolves before the sockets' 'close' events: wait for those sessions too.
    await Promise.allSettled([...pending, ...this.ending]);
    this.port = this.opts.port;
    this.log.info('FTP incoming stopped');
  }

  private accept(connection: ConnectionInternals): void {
    const socket = connection.commandSocket;
    try {
      const remoteAddress = normaliseAddress(socket.remoteAddress ?? '');
      const limit = this.opts.maxSessionsPerIp ?? DEFAULT_MAX_SESSIONS_PER_IP;
      const sameAddress = [...this.live.values()].filter((l) => l.session.remoteAddress === remoteAddress).length;
      if (sameAddress >= limit) {
        this.log.warn({ remoteAddress, limit }, 'FTP connection refused: too many from this address');
        // Written before ftp-srv's greeting, which then finds the socket closed.
        socket.end(`421 Too many connections from ${remoteAddress} (at most ${limit}); try again later\r\n`, () =>
          socket.destroy(),
        );
        return;
      }
      const session = new UploadSession(connection.id, remoteAddress);
      const live: LiveSession = { connection, session, dir: this.opts.incomingDir };
      this.live.set(connection.id, live);
      socket.setKeepAlive(true, 30_000);
      if (this.opts.idleTimeoutMs > 0) {
        // ftp-srv's own 'timeout' listener replies 421 and closes the connection.
        socket.setTimeout(this.opts.idleTimeoutMs);
        socket.on('timeout', () => session.closeFromServer());
      }
      this.interceptCommands(live);
      socket.once('close', () => {
        this.live.delete(connection.id);
        const done = this.endSession(session).finally(() => this.ending.delete(done));
        this.ending.add(done);
      });
      this.log.debug({ session: session.id, remoteAddress }, 'FTP session opened');
    } catch (err) {
      this.log.error({ err }, 'accepting an FTP connection failed');
      socket.destroy();
    }
  }

  /**
   * Runs before ftp-srv's command dispatch: notes that the client is alive, answers FEAT with what
   * is really offered and refuses bad or existing STOR names with 553 before any data moves.
   */
  private interceptCommands(live: LiveSession): void {
    const { connection, session } = live;
    const commands = connection.commands;
    const dispatch = commands.handle.bind(commands);
    commands.handle = (message) =>
      Promise.resolve()
        .then(async () => {
          const command = typeof message === 'string' ? commands.parse(message) : message;
          session.clientSpoke();
          if (command.directive === 'FEAT')
            return connection.reply(
              211,
              'Extensions supported',
              ...FEATURES.map((f) => ({ message: ` ${f}`, raw: true })),
              'End',
            );
          if (command.directive === 'STOR' && connection.authenticated) {
            const refusal = await refuseUpload(live.dir, command.arg);
            if (refusal) {
              this.log.info({ session: session.id, name: command.arg, refusal }, 'FTP upload refused');
              connection.connector.end();
              return connection.reply(553, refusal);
            }
          }
          return dispatch(command);
        })
        .catch((err: unknown) => {
          // ftp-srv's handlers answer their own errors; this is for ours (e.g. incoming unreadable).
          this.log.error({ err, session: session.id }, 'FTP command failed');
          return connection.reply(451, 'local error in processing; try again later');
        });
  }

  private async endSession(session: UploadSession): Promise<void> {
    try {
      const report = await session.finish();
      this.log.info(
        { session: report.id, remoteAddress: report.remoteAddress, files: report.files },
        'FTP session ended',
      );
      if (report.files.length > 0) await this.opts.onSessionEnd(report);
    } catch (err) {
      this.log.error({ err, session: session.id }, 'handling the end of an FTP session failed');
    }
  }

  /** Data moving in an upload counts as activity on the (quiet) control connection. */
  private keepAlive(socket: Socket): void {
    if (this.opts.idleTimeoutMs > 0 && !socket.destroyed) socket.setTimeout(this.opts.idleTimeoutMs);
  }

  /** The address for a PASV reply: the one the client reached, not a configured or wildcard one. */
  private passiveAddress(clientIp: string): string {
    const remote = normaliseAddress(clientIp);
    const live = [...this.live.values()].find((l) => l.session.remoteAddress === remote);
    const local = normaliseAddress(live?.connection.commandSocket.localAddress ?? this.opts.host);
    if (!isIPv4(local)) throw new FtpReplyError(522, 'PASV cannot describe this address; use EPSV');
    return local;
  }
}

/** `::ffff:1.2.3.4` (IPv4 on an IPv6 socket) as `1.2.3.4`. */
function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * ftp-srv's constructor adds SIGTERM/SIGINT/SIGQUIT handlers that close it and call process.exit(0),
 * which would end the whole daemon. Remove exactly the handlers it added, no one else's.
 */
function withoutSignalHandlers<T>(create: () => T): T {
  const before = new Map(FTP_SRV_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  try {
    return create();
  } finally {
    for (const signal of FTP_SRV_SIGNALS)
      for (const listener of process.listeners(signal))
        if (!before.get(signal)!.has(listener)) process.off(signal, listener);
  }
}

/** A directory name for an FTP connection id (ftp-srv's are random; anything else is replaced). */
export function sessionDirName(connectionId: string): string {
  const safe = connectionId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return safe || 'session';
}
