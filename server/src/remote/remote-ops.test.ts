import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { statusWaking } from './remote-ops.js';
import { Remote } from './remote.entity.js';
import type { RemoteError } from './wire.js';

const quiet = pino({ level: 'silent' });

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function remote(
  url: string,
  wake: Partial<Pick<Remote, 'wakeCommand' | 'wakeAttempts' | 'wakeIntervalSeconds'>>,
): Remote {
  return Object.assign(new Remote(), { url }, wake);
}

describe('waking a remote', () => {
  it('runs the wake command up to its attempts, then says how often and what the command said', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-wake-'));
    try {
      const log = path.join(dir, 'woken');
      const url = `http://127.0.0.1:${await closedPort()}`;
      const r = remote(url, {
        wakeCommand: ['/bin/sh', '-c', `echo x >> ${log}; echo no such host >&2; exit 3`],
        wakeAttempts: 2,
        wakeIntervalSeconds: 1,
      });
      await assert.rejects(statusWaking(r, quiet), (err: RemoteError) => {
        assert.equal(err.code, 'REMOTE_UNREACHABLE');
        assert.equal(
          err.message,
          `cannot reach ${url}: ECONNREFUSED (after 2 wake attempts with \`/bin/sh -c echo x >> ${log}; echo no such host >&2; exit 3\`, which failed: no such host)`,
        );
        return true;
      });
      assert.equal(fs.readFileSync(log, 'utf8'), 'x\nx\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks again after each wake and stops as soon as it answers', async () => {
    let asked = 0;
    const server = http.createServer((_req, res) => {
      asked++;
      if (asked === 1) res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"detail":"starting"}');
      else
        res.end(JSON.stringify({ version: '2.2.8', identity: 'grover', load: 0, chroots: [], remotes: [], url: 'x' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = remote(url, { wakeCommand: ['/bin/true'], wakeAttempts: 5, wakeIntervalSeconds: 1 });
      assert.equal((await statusWaking(r, quiet)).identity, 'grover');
      assert.equal(asked, 2);
    } finally {
      server.close();
    }
  });

  it('without a wake command, says at once that it cannot reach it', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    await assert.rejects(
      statusWaking(remote(url, {}), quiet),
      (err: RemoteError) => err.message === `cannot reach ${url}: ECONNREFUSED`,
    );
  });
});
