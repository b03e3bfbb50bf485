import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, eventually } from '../support/daemon.js';
import { freePort } from '../support/postgres.js';
import { recentEvents } from '../support/scenarios.js';

/** A stand-in archive on a fixed loopback port that can go down and come back. */
class FlakyMirror {
  private server: http.Server | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/debian/`;
  }
  async up(): Promise<void> {
    this.server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  async down(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}

describe('an object that fails while active comes back by itself', () => {
  let daemon: TestDaemon;
  let mirror: FlakyMirror;

  before(async () => {
    daemon = await TestDaemon.start({ args: ['--recheck-interval', '1'] });
    mirror = new FlakyMirror(await freePort());
    await mirror.up();
  });
  after(async () => {
    await daemon?.dispose();
    await mirror?.down();
  });

  const state = async () => {
    const o = JSON.parse((await daemon.cli(['config', 'archive', 'show', mirror.url, '--json'])).stdout);
    return `${o.status}/${o.checkState}`;
  };

  it('goes active, drops to auto-reactivate when its check fails, and is active again after the mirror returns', async () => {
    assert.equal((await daemon.cli(['config', 'archive', 'create', mirror.url])).exitCode, 0);
    const pca = await daemon.cli(['config', 'archive', 'pca', mirror.url]);
    assert.equal(pca.exitCode, 0, pca.stderr);
    assert.equal(await state(), 'ACTIVE/CHECKED');

    await mirror.down();
    const check = await daemon.cli(['config', 'archive', 'check', mirror.url]);
    assert.equal(check.exitCode, 1);
    assert.match(check.stderr, /check of archive http:\/\/127\.0\.0\.1:\d+\/debian\/ failed: .*/);
    assert.equal(await state(), 'PREPARED/AUTO_REACTIVATE');
    const failed = (await recentEvents(daemon, 10)).find((e) => e.type === 'CONFIG_FAILED');
    assert.equal(failed?.payload.key, mirror.url);

    // The scheduled recheck keeps failing quietly while the mirror is down …
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await state(), 'PREPARED/AUTO_REACTIVATE');
    // … and brings it back once the mirror answers again.
    await mirror.up();
    await eventually(async () => ((await state()) === 'ACTIVE/CHECKED' ? true : undefined), 15_000);
    const back = (await recentEvents(daemon, 10)).find((e) => e.type === 'CONFIG_ACTIVATED');
    assert.equal(back?.payload.automatic, true);
  });

  it('deactivating stops the automatic return', async () => {
    await mirror.down();
    await daemon.cli(['config', 'archive', 'check', mirror.url]);
    assert.equal(await state(), 'PREPARED/AUTO_REACTIVATE');
    assert.equal((await daemon.cli(['config', 'archive', 'deactivate', mirror.url])).exitCode, 0);
    await mirror.up();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await state(), 'PREPARED/FAILED');
  });
});
