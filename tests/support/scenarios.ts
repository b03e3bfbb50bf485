import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually, type TestDaemon } from './daemon.js';

export interface EventRow {
  id: string;
  type: string;
  summary: string;
  payload: Record<string, unknown>;
}

/** Uploads `content` as `name` with curl (a real FTP client); returns curl's exit code and stderr. */
export async function ftpUpload(
  daemon: TestDaemon,
  name: string,
  content: string | Buffer,
): Promise<{ exitCode: number; stderr: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-upload-'));
  const file = path.join(dir, 'payload');
  await fs.writeFile(file, content);
  try {
    const r = await execa(
      'curl',
      ['-sS', '--max-time', '20', '-T', file, `ftp://127.0.0.1:${daemon.ftpPort}/${name}`],
      {
        reject: false,
      },
    );
    return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The newest events (as the local admin), newest first. */
export async function recentEvents(daemon: TestDaemon, limit = 50): Promise<EventRow[]> {
  const r = await daemon.gql<{ events: EventRow[] }>(
    'query($l: Int!) { events(limit: $l) { id type summary payload } }',
    { l: limit },
    await daemon.adminToken,
  );
  assert.equal(r.errors, undefined);
  return r.data!.events;
}

export function waitForEvent(daemon: TestDaemon, match: (e: EventRow) => boolean): Promise<EventRow> {
  return eventually(async () => (await recentEvents(daemon)).find(match));
}

/** Subscribes over graphql-ws and collects events until `count` arrived. */
export async function subscribeEvents(
  daemon: TestDaemon,
  opts: { since?: string; token?: string; count: number; timeoutMs?: number; onSubscribed?: () => Promise<void> },
): Promise<EventRow[]> {
  const client = createClient({
    url: daemon.httpUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  const got: EventRow[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`received ${got.length} of ${opts.count} events`)),
        opts.timeoutMs ?? 10_000,
      );
      let acknowledged = false;
      client.on('connected', () => {
        if (acknowledged) return;
        acknowledged = true;
        // The server subscribes to the bus as soon as it starts the operation; a short pause is enough.
        setTimeout(() => opts.onSubscribed?.().catch(reject), 200);
      });
      client.subscribe<{ events: EventRow }>(
        {
          query: 'subscription($since: ID) { events(since: $since) { id type summary payload } }',
          variables: { since: opts.since ?? null },
        },
        {
          next: (r) => {
            if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
            got.push(r.data!.events);
            if (got.length >= opts.count) {
              clearTimeout(timer);
              resolve();
            }
          },
          error: (e) => {
            clearTimeout(timer);
            reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
          },
          complete: () => undefined,
        },
      );
    });
  } finally {
    await client.dispose();
  }
  return got;
}
