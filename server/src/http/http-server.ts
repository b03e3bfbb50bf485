import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import type { MikroORM } from '@mikro-orm/postgresql';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/auth.service.js';
import { PrincipalWatch } from '../auth/principal-watch.js';
import { SESSION_COOKIE } from '../auth/constants.js';
import type { Context, Services } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import type { HostPort } from '../config/config.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { repositoryRouter } from '../repository/repository-static.js';
import { BUILDS_DIR_PATH } from '../remote/remote-builds.js';
import { API_PATH } from '../remote/wire.js';
import { WORKER_API_PATH } from '../build/worker-builds.js';
import { logsRouter, uploadsRouter, type LogLocations } from './logs-router.js';

export interface HttpServerOptions {
  listen: HostPort;
  schema: GraphQLSchema;
  orm: MikroORM;
  services: Services;
  /** The built console (client/dist); served at / with history-mode fallback. */
  consoleDir: string;
  /** <data>/repositories: reprepro basedirs, served at /repositories/<identity>/{dists,pool}. */
  repositoriesDir: string;
  /** Build and chroot logs, served at /logs. */
  logs: LogLocations;
  /** <data>/spool: each upload's .changes is served at /uploads/<id>/<name>.changes. */
  spoolDir: string;
  keys: InstanceKeyStore;
  /** dput's http method: `PUT /upload/<file>`. */
  upload?: Router;
  /** mini-buildd's API calls remotes use: `/mini_buildd/api/{status,pub_key,handshake}/`. */
  remoteApi?: Router;
  /** What `debyard worker` processes call (build/worker-builds.ts). */
  workerApi?: Router;
  /** Logs of builds other instances asked for, at mini-buildd's builds-dir. */
  buildsDir?: Router;
  logger: Logger;
}

/** Paths the console's history-mode fallback must never answer (bare /repositories is a console page). */
const NOT_CONSOLE = /^\/(graphql|logs|upload|mini_buildd|api)(\/|$)|^\/repositories\/[^/]|^\/uploads\/[^/]+\//;

export class HttpServer {
  private readonly server: http.Server;
  private readonly apollo: ApolloServer<Context>;
  private readonly wss: WebSocketServer;
  private readonly app = express();
  private wsCleanup: { dispose(): void | Promise<void> } | undefined;
  private readonly principals: PrincipalWatch;

  constructor(private readonly opts: HttpServerOptions) {
    this.server = http.createServer(this.app);
    this.principals = new PrincipalWatch(opts.services.auth, opts.orm, opts.logger);
    this.wss = new WebSocketServer({ server: this.server, path: '/graphql' });
    this.apollo = new ApolloServer<Context>({
      schema: opts.schema,
      includeStacktraceInErrorResponses: false,
      // The daemon owns SIGTERM/SIGINT: Apollo would stop itself and re-raise the signal, killing the process.
      stopOnTerminationSignals: false,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer: this.server, stopGracePeriodMillis: 2000 }),
        { serverWillStart: async () => ({ drainServer: async () => this.wsCleanup?.dispose() }) },
      ],
      formatError: (formatted, error) => {
        const code = formatted.extensions?.code;
        if (code === 'INTERNAL_SERVER_ERROR') opts.logger.error({ err: error }, 'GraphQL request failed');
        return formatted;
      },
    });
  }

  /** Starts listening; returns the address actually bound (port 0 picks a free one). */
  async start(): Promise<HostPort> {
    const { opts } = this;
    await this.apollo.start();
    this.principals.start(opts.services.bus);
    this.wsCleanup = useServer<Record<string, unknown>, { principal: Principal | null; unwatch?: () => void }>(
      {
        schema: opts.schema,
        onConnect: async (ctx) => {
          const token = bearer(String(ctx.connectionParams?.authorization ?? ''));
          const secret = token ?? cookieValue(ctx.extra.request.headers.cookie, SESSION_COOKIE);
          ctx.extra.principal = null;
          if (!secret) return true;
          try {
            const principal = await opts.services.auth.authenticate(opts.orm.em.fork(), secret);
            ctx.extra.principal = principal;
            if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false; // gone while we looked
            // A subscription lasts as long as the access it was opened with: 4401 with the reason when that ends.
            ctx.extra.unwatch = this.principals.watch(principal, (reason) =>
              ctx.extra.socket.close(CLOSE_ACCESS_ENDED, closeReason(`INVALID_TOKEN: ${reason}`)),
            );
            return true;
          } catch (err) {
            // A stale console cookie streams anonymously, as over HTTP; a wrong token is refused (4403 Forbidden).
            if (err instanceof DomainError && token === undefined) return true;
            return false;
          }
        },
        onClose: (ctx) => ctx.extra.unwatch?.(),
        context: (ctx): Context => ({
          em: opts.orm.em.fork(),
          principal: (ctx.extra as { principal?: Principal | null }).principal ?? null,
          services: opts.services,
          cookie: null,
        }),
      },
      this.wss,
    );

    this.app.disable('x-powered-by');
    this.app.use((_req, res, next) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    });
    this.app.use(
      '/graphql',
      express.json({ limit: '1mb' }),
      expressMiddleware(this.apollo, { context: ({ req, res }) => this.httpContext(req, res) }),
    );
    this.app.use('/repositories', repositoryRouter(opts.repositoriesDir));
    this.app.use('/logs', logsRouter(opts.logs));
    this.app.use('/uploads', uploadsRouter(opts.spoolDir));
    if (opts.upload) this.app.use('/upload', opts.upload);
    if (opts.remoteApi) this.app.use(API_PATH, opts.remoteApi);
    if (opts.workerApi) this.app.use(WORKER_API_PATH, opts.workerApi);
    if (opts.buildsDir) this.app.use(BUILDS_DIR_PATH, opts.buildsDir);
    this.mountArchiveKey();
    this.mountConsole();

    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(opts.listen.port, opts.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { host: opts.listen.host, port: address.port };
  }

  /** Stops accepting, lets running requests finish for up to 2 s, then cuts what is left. */
  async stop(): Promise<void> {
    this.principals.stop();
    for (const client of this.wss.clients) client.close(1001, 'debyard is shutting down');
    await this.apollo.stop();
    this.wss.close();
    this.server.closeAllConnections();
  }

  private async httpContext(req: Request, res: Response): Promise<Context> {
    const { orm, services } = this.opts;
    const em = orm.em.fork();
    const header = req.headers.authorization;
    const secret = header !== undefined ? bearer(header) : cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (header !== undefined && !secret)
      throw httpError(401, 'INVALID_TOKEN', 'the Authorization header must be "Bearer <token>"');
    let principal: Principal | null = null;
    if (secret) {
      try {
        principal = await services.auth.authenticate(em, secret);
      } catch (err) {
        if (err instanceof DomainError && header === undefined) {
          // A stale console cookie: drop it and carry on anonymously, so the sign-in page still works.
          res.clearCookie(SESSION_COOKIE, { path: '/' });
        } else if (err instanceof DomainError) {
          throw httpError(401, err.code, err.message);
        } else throw err;
      }
    }
    return {
      em,
      principal,
      services,
      cookie: {
        set: (value, expires) =>
          res.cookie(SESSION_COOKIE, value, {
            httpOnly: true,
            sameSite: 'strict',
            secure: req.secure,
            path: '/',
            expires,
          }),
        clear: () => res.clearCookie(SESSION_COOKIE, { path: '/' }),
      },
    };
  }

  /** The instance's public key for apt's Signed-By: armored and as a binary keyring. */
  private mountArchiveKey(): void {
    const send = async (res: Response, binary: boolean) => {
      if (!(await this.opts.keys.load())) {
        res.status(404).type('text/plain').send('This instance has no key yet: run `debyard setup --apply` first.\n');
        return;
      }
      if (binary) res.type('application/pgp-keys').send(Buffer.from(await this.opts.keys.binaryPublicKey()));
      else res.type('application/pgp-keys').send(await this.opts.keys.armoredPublicKey());
    };
    this.app.get('/archive-keyring.gpg', (_req, res, next) => void send(res, true).catch(next));
    this.app.get('/archive-keyring.asc', (_req, res, next) => void send(res, false).catch(next));
  }

  private mountConsole(): void {
    const dir = this.opts.consoleDir;
    const index = path.join(dir, 'index.html');
    this.app.use(express.static(dir, { index: false, fallthrough: true, maxAge: '1h', immutable: false }));
    this.app.get('/{*path}', (req, res, next) => {
      if (NOT_CONSOLE.test(req.path)) return next();
      if (!fs.existsSync(index)) {
        res
          .status(503)
          .type('text/plain')
          .send('The web console is not built: run `npm run build -w client` (npm start does it for you).\n');
        return;
      }
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  }
}

/** graphql-ws's Unauthorized: the connection's token or session stopped being valid while it was open. */
const CLOSE_ACCESS_ENDED = 4401;

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

function bearer(header: string): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m?.[1];
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function httpError(status: number, code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}
