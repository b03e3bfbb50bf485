import fs from 'node:fs/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Follows a running build's log over the `buildLog` subscription and times each chunk against the moment
 * the log file reached the chunk's end (the file's size polled every 20 ms). Resolves with the lags in
 * ms after `chunks` matched chunks, or when the log ends. Used by builds.test.ts and bench/build-overhead.mjs.
 */
export async function buildLogLags(opts: {
  httpUrl: string;
  buildId: string;
  logFile: string;
  chunks: number;
  token?: string;
}): Promise<number[]> {
  const written = new Map<number, number>(); // size -> when the file reached it
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const size = await fs.stat(opts.logFile).then(
        (s) => s.size,
        () => 0,
      );
      if (!written.has(size)) written.set(size, Date.now());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const lags: number[] = [];
  const client = createClient({
    url: opts.httpUrl.replace('http', 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = client.subscribe<{ buildLog: { offset: number; text: string; done: boolean } }>(
        {
          query: `subscription($id: ID!) { buildLog(id: $id) { offset text done } }`,
          variables: { id: opts.buildId },
        },
        {
          next: ({ data }) => {
            const chunk = data!.buildLog;
            const at = written.get(chunk.offset + Buffer.byteLength(chunk.text));
            if (at !== undefined) lags.push(Date.now() - at);
            if (lags.length >= opts.chunks || chunk.done) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: resolve,
        },
      );
    });
  } finally {
    polling = false;
    await poll;
    await client.dispose();
  }
  return lags;
}
