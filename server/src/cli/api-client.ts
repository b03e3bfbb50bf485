import fs from 'node:fs';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN_FILE } from '../auth/constants.js';
import { DEFAULT_DATA_DIR } from '../config/config.js';

/** CLI exit codes, documented in the README. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3, DENIED: 4 } as const;

const DENIED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'INVALID_TOKEN', 'INVALID_CREDENTIALS']);

/** The code of a failure the CLI finds itself (no daemon error code), by its exit code. */
const CODE_OF_EXIT: Record<number, string> = {
  [EXIT.FAILED]: 'FAILED',
  [EXIT.USAGE]: 'USAGE',
  [EXIT.UNREACHABLE]: 'UNREACHABLE',
  [EXIT.DENIED]: 'DENIED',
};

/** A failure the CLI reports: a message, a stable code (the daemon's when it has one) and the exit code. */
export class CliError extends Error {
  readonly code: string;

  constructor(
    message: string,
    readonly exitCode: number,
    code?: string,
  ) {
    super(message);
    this.code = code ?? CODE_OF_EXIT[exitCode] ?? 'FAILED';
  }
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * The token the CLI acts with: --token, then DEBYARD_TOKEN, then the local admin token in the data
 * directory when this user can read it (root, or the daemon's user).
 */
export function resolveToken(explicit: string | undefined, env = process.env): ResolvedToken | undefined {
  if (explicit) return { token: explicit, source: '--token' };
  if (env.DEBYARD_TOKEN) return { token: env.DEBYARD_TOKEN, source: 'DEBYARD_TOKEN' };
  const file = path.join(env.DEBYARD_DATA_DIR || DEFAULT_DATA_DIR, ADMIN_TOKEN_FILE);
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    return token ? { token, source: file } : undefined;
  } catch {
    return undefined;
  }
}

/** A token and where it came from, so a refusal can say which one was wrong. */
export interface ResolvedToken {
  token: string;
  source: string;
}

export class ApiClient {
  readonly url: string;
  private readonly sockets = new Set<{ dispose(): void | Promise<void> }>();

  private readonly token: string | undefined;

  constructor(
    url: string,
    private readonly credentials: ResolvedToken | undefined,
  ) {
    this.token = credentials?.token;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`--url / DEBYARD_URL: "${url}" is not a URL, e.g. http://localhost:8066`, EXIT.USAGE);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new CliError(`--url / DEBYARD_URL: "${url}" must be http:// or https://`, EXIT.USAGE);
    this.url = parsed.origin;
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    const body = (await res.json().catch(() => null)) as GraphQLResponse<T> | null;
    if (!body)
      throw new CliError(
        `${this.url} answered HTTP ${res.status} without a GraphQL response`,
        EXIT.FAILED,
        'NO_GRAPHQL_RESPONSE',
      );
    const error = body.errors?.[0];
    if (error) throw this.explain(toCliError(error));
    return body.data as T;
  }

  /** Runs a subscription until it ends or fails; `onData` gets each result. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): Promise<void> {
    const wsUrl = this.url.replace(/^http/, 'ws') + '/graphql';
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : {},
    });
    this.sockets.add(client);
    return new Promise<void>((resolve, reject) => {
      client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            const error = result.errors?.[0];
            if (error) reject(toCliError(error as { message: string; extensions?: { code?: string } }));
            else onData(result.data as T);
          },
          error: (err) => reject(this.subscriptionError(err)),
          complete: () => resolve(),
        },
      );
    }).finally(() => {
      this.sockets.delete(client);
      return client.dispose();
    });
  }

  /** Ends every running subscription of this client. */
  closeSubscriptions(): void {
    for (const socket of this.sockets) void socket.dispose();
    this.sockets.clear();
  }

  /** A refused token that was picked up from a file or the environment says where it came from. */
  private explain(err: CliError): CliError {
    if (err.code !== 'INVALID_TOKEN' || !this.credentials) return err;
    return new CliError(
      `${this.url} refused the token from ${this.credentials.source}: ${err.message}` +
        (this.credentials.source.endsWith(ADMIN_TOKEN_FILE)
          ? ' (point DEBYARD_DATA_DIR at this daemon’s data directory, or pass --token)'
          : ''),
      err.exitCode,
      err.code,
    );
  }

  private unreachable(err: unknown): CliError {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    return new CliError(
      `cannot reach debyard at ${this.url} (${cause}): is \`debyard serve\` running? (set --url or DEBYARD_URL)`,
      EXIT.UNREACHABLE,
    );
  }

  private subscriptionError(err: unknown): CliError {
    if (err instanceof CliError) return err;
    const close = err as { code?: number; reason?: string };
    if (close?.code === 4403)
      return new CliError(
        'the daemon refused the token: it is invalid, expired or revoked',
        EXIT.DENIED,
        'INVALID_TOKEN',
      );
    if (typeof close?.code === 'number')
      return new CliError(
        `the event stream from ${this.url} closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`,
        EXIT.UNREACHABLE,
        'STREAM_CLOSED',
      );
    if (Array.isArray(err) && err[0]) return toCliError(err[0] as { message: string });
    return this.unreachable(err);
  }
}

function toCliError(error: { message: string; extensions?: { code?: string } }): CliError {
  const code = error.extensions?.code;
  const message = error.message.replace(/^Context creation failed: /, '');
  return new CliError(message, code && DENIED_CODES.has(code) ? EXIT.DENIED : EXIT.FAILED, code);
}
