// The auto-port job's idempotency on a real database: the port an auto-port made is found by the
// origin it recorded (jsonb), and only that one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '@debyard/server/dist/db/orm.js';
import { createLogger } from '@debyard/server/dist/log.js';
import { findAutoPort } from '@debyard/server/dist/port/port.js';
import { Upload, UploadVia } from '@debyard/server/dist/upload/upload.entity.js';
import { createTestDatabase, stopScratchCluster, type TestDatabase } from '../support/postgres.js';

describe('auto-ports on the database', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  before(async () => {
    db = await createTestDatabase();
    orm = await openDatabase(db.url, createLogger('silent'));
  });
  after(async () => {
    await orm?.close();
    await db?.drop();
    await stopScratchCluster();
  });

  it('finds the port an auto-port made by its origin, and nothing else', async () => {
    const em = orm.em.fork();
    const row = (over: Partial<Upload>) =>
      em.create(Upload, {
        changesName: 'hello_1.0~test12+0_source.changes',
        spoolDir: '/nonexistent',
        via: UploadVia.PORT,
        changesSha256: '0'.repeat(64),
        source: 'hello',
        version: '1.0~test12+0',
        distribution: 'bookworm-test-experimental',
        ...over,
      });
    const origin = { from: 'bookworm-test-unstable', fromVersion: '1.0~test12+1', by: 'auto-ports of upload 7' };
    const made = row({ port: { ...origin, autoPortOf: 7 } });
    row({ port: { ...origin, autoPortOf: 70 } });
    row({ port: { ...origin, by: 'admin', autoPortOf: null } });
    row({ via: UploadVia.FTP });
    row({ port: { ...origin, autoPortOf: 7 }, distribution: 'bookworm-test-unstable' });
    await em.flush();

    const found = await findAutoPort(orm.em.fork(), 7, 'bookworm-test-experimental');
    assert.equal(found?.id, made.id);
    assert.equal(await findAutoPort(orm.em.fork(), 8, 'bookworm-test-experimental'), null);
    assert.equal(await findAutoPort(orm.em.fork(), 7, 'trixie-test-experimental'), null);
  });
});
