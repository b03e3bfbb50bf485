import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { MAIN, TestDaemon, eventually } from './daemon.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from './postgres.js';
import { ftpUpload, recentEvents, subscribeEvents, waitForEvent } from './scenarios.js';

/**
 * What a new user does on the first day, against the real daemon: the same steps with the managed
 * database and with DATABASE_URL.
 */
export function daemonSuite(database: 'managed' | 'external'): void {
  describe(`debyard serve with the ${database} database`, () => {
    let db: TestDatabase | undefined;
    let daemon: TestDaemon;
    let admin: string;

    before(async () => {
      if (database === 'external') db = await createTestDatabase();
      daemon = await TestDaemon.start({ databaseUrl: db?.url });
      admin = await daemon.adminToken;
    });
    after(async () => {
      await daemon?.dispose();
      await db?.drop();
      await stopScratchCluster();
    });

    it('answers `debyard status --json` as the local admin', async () => {
      const r = await daemon.cli(['status', '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const status = JSON.parse(r.stdout);
      assert.equal(status.engineRunning, true);
      assert.match(status.version, /^\d+\.\d+\.\d+/);
      assert.equal(status.httpUrl, daemon.httpUrl);
      assert.equal(status.ftpUrl, `ftp://127.0.0.1:${daemon.ftpPort}/`);
      assert.ok(status.uptimeSeconds >= 0);
    });

    it('keeps the admin token private to the daemon user (mode 0600)', async () => {
      const st = await fs.stat(path.join(daemon.dataDir, 'admin.token'));
      assert.equal(st.mode & 0o777, 0o600);
    });

    it('turns an FTP upload into an event seen by `debyard events --follow`', async () => {
      const [newest] = await recentEvents(daemon, 1);
      const follower = execa(process.execPath, [MAIN, 'events', '--follow', '--json', '--since', newest!.id], {
        env: { DEBYARD_URL: daemon.httpUrl, DEBYARD_DATA_DIR: daemon.dataDir },
        reject: false,
      });
      try {
        let out = '';
        const seen = new Promise<Record<string, unknown>>((resolve) => {
          follower.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            for (const line of out.split('\n').filter(Boolean)) {
              const e = JSON.parse(line);
              if (e.type === 'FTP_UPLOAD' && e.payload.file === 'follow_1.0.dsc') resolve(e);
            }
          });
        });
        const up = await ftpUpload(daemon, 'follow_1.0.dsc', 'Format: 3.0 (native)\n');
        assert.equal(up.exitCode, 0, up.stderr);
        const event = await Promise.race([
          seen,
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no event; got:\n${out}`)), 10_000)),
        ]);
        assert.deepEqual(
          { complete: event.payload && (event.payload as Record<string, unknown>).complete, type: event.type },
          { complete: true, type: 'FTP_UPLOAD' },
        );
      } finally {
        follower.kill('SIGTERM');
        await follower;
      }
    });

    it('replays missed events over graphql-ws from `since`, then streams live ones', async () => {
      const [newest] = await recentEvents(daemon, 1);
      await ftpUpload(daemon, 'missed_1.txt', 'a');
      await waitForEvent(daemon, (e) => e.payload.file === 'missed_1.txt');
      // Each session: the file's FTP_UPLOAD, then INCOMING_CLEANED when the session end removes it.
      const all = await subscribeEvents(daemon, {
        since: newest!.id,
        count: 4,
        onSubscribed: async () => {
          await ftpUpload(daemon, 'live_1.txt', 'b');
        },
      });
      const got = all.filter((e) => e.type === 'FTP_UPLOAD');
      assert.deepEqual(
        got.map((e) => e.payload.file),
        ['missed_1.txt', 'live_1.txt'],
      );
      assert.ok(BigInt(got[0]!.id) < BigInt(got[1]!.id));
    });

    it('refuses anonymous mutations and wrong tokens with codes and exit codes', async () => {
      const anon = await daemon.gql('mutation { engineStop { engineRunning } }');
      assert.equal(anon.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      const wrong = await daemon.gql('{ status { identity } }', {}, 'dy_not-a-token');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.errors?.[0]?.extensions?.code, 'INVALID_TOKEN');

      const cliAnon = await daemon.cli(['engine', 'stop'], { token: null });
      assert.equal(cliAnon.exitCode, 4);
      assert.match(cliAnon.stderr, /not signed in/);
      const cliWrong = await daemon.cli(['status'], { token: 'dy_wrong' });
      assert.equal(cliWrong.exitCode, 4);
      assert.match(cliWrong.stderr, /invalid, expired or revoked/);
      assert.match(cliWrong.stderr, /refused the token from DEBYARD_TOKEN/, 'says which token was wrong');
      const status = await daemon.gql<{ status: { engineRunning: boolean } }>('{ status { engineRunning } }');
      assert.equal(status.data?.status.engineRunning, true, 'nothing changed');
    });

    it('manages users and tokens; a revoked token stops working at once', async () => {
      const add = await daemon.cli(['user', 'add', 'carol', '--role', 'uploader', '--password-stdin'], {
        input: 'correct horse battery\n',
      });
      assert.equal(add.exitCode, 0, add.stderr);
      const dup = await daemon.cli(['user', 'add', 'carol', '--role', 'staff']);
      assert.equal(dup.exitCode, 1);
      assert.match(dup.stderr, /already exists/);

      const created = await daemon.cli(['token', 'create', '--for', 'carol', '--name', 'carol ci', '--json']);
      assert.equal(created.exitCode, 0, created.stderr);
      const { secret, token } = JSON.parse(created.stdout);
      assert.match(secret, /^dy_/);

      const me = await daemon.gql<{ me: { username: string; role: string } }>('{ me { username role } }', {}, secret);
      assert.deepEqual(me.data?.me, { username: 'carol', role: 'UPLOADER' });
      const forbidden = await daemon.cli(['engine', 'stop'], { token: secret });
      assert.equal(forbidden.exitCode, 4);
      assert.match(forbidden.stderr, /needs the ADMIN role; carol is UPLOADER/);

      const revoke = await daemon.cli(['token', 'revoke', token.id]);
      assert.equal(revoke.exitCode, 0, revoke.stderr);
      const after = await daemon.gql('{ me { username } }', {}, secret);
      assert.equal(after.errors?.[0]?.extensions?.code, 'INVALID_TOKEN');

      const last = await daemon.cli(['user', 'remove', 'admin']);
      assert.equal(last.exitCode, 1);
      assert.match(last.stderr, /last administrator/);
    });

    it('stops and starts the engine: FTP goes away and comes back, HTTP stays', async () => {
      const stop = await daemon.cli(['engine', 'stop', '--json']);
      assert.equal(stop.exitCode, 0, stop.stderr);
      assert.equal(JSON.parse(stop.stdout).engineRunning, false);
      const refused = await ftpUpload(daemon, 'while_stopped.txt', 'x');
      assert.notEqual(refused.exitCode, 0, 'FTP must be down while the engine is stopped');
      const start = await daemon.cli(['engine', 'start']);
      assert.equal(start.exitCode, 0, start.stderr);
      assert.equal((await ftpUpload(daemon, 'after_start.txt', 'y')).exitCode, 0);
      const types = (await recentEvents(daemon, 10)).map((e) => e.type);
      assert.ok(types.includes('ENGINE_STOPPED') && types.includes('ENGINE_STARTED'));
    });

    it('exits 0 within 5 s on SIGTERM and keeps users, tokens and events across a restart', async () => {
      const eventsBefore = await recentEvents(daemon, 500);
      // A follower that outlives the restart must see everything, once, in order.
      const follower = execa(process.execPath, [MAIN, 'events', '--follow', '--json', '--since', eventsBefore[0]!.id], {
        env: { DEBYARD_URL: daemon.httpUrl, DEBYARD_DATA_DIR: daemon.dataDir },
        reject: false,
      });
      let followed = '';
      follower.stdout!.on('data', (d: Buffer) => (followed += d.toString()));
      try {
        await new Promise((r) => setTimeout(r, 1000));

        const { exitCode, ms } = await daemon.stop('SIGTERM');
        assert.equal(exitCode, 0, daemon.logs);
        assert.ok(ms < 5000, `took ${ms} ms`);

        daemon = await TestDaemon.start({
          databaseUrl: db?.url,
          dataDir: daemon.dataDir,
          httpPort: daemon.httpPort,
          ftpPort: daemon.ftpPort,
        });
        assert.equal(await daemon.adminToken, admin, 'the local admin token survives');
        const users = await daemon.cli(['user', 'list', '--json']);
        assert.deepEqual(
          JSON.parse(users.stdout).map((u: { username: string }) => u.username),
          ['admin', 'carol'],
        );
        const ids = new Set((await recentEvents(daemon, 500)).map((e) => e.id));
        for (const e of eventsBefore) assert.ok(ids.has(e.id), `event ${e.id} kept`);
        assert.equal((await ftpUpload(daemon, 'after_restart.txt', 'z')).exitCode, 0);
        await eventually(async () => (followed.includes('after_restart.txt') ? true : undefined), 20_000);
      } finally {
        follower.kill('SIGTERM');
        await follower;
      }
      const seen = followed
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; type: string });
      const seenIds = seen.map((e) => BigInt(e.id));
      assert.equal(new Set(seenIds).size, seenIds.length, 'no duplicates across the restart');
      assert.deepEqual(
        seenIds,
        [...seenIds].sort((a, b) => (a < b ? -1 : 1)),
      );
      const types = seen.map((e) => e.type);
      for (const t of ['DAEMON_STOPPED', 'DAEMON_STARTED', 'FTP_UPLOAD']) assert.ok(types.includes(t), `${t} followed`);
    });
  });
}
