import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { openDatabase } from '@debyard/server/dist/db/orm.js';
import { schemaText } from '@debyard/server/dist/graphql/emit-schema.js';
import { createLogger } from '@debyard/server/dist/log.js';
import { createTestDatabase, stopScratchCluster } from '../support/postgres.js';

const root = new URL('../../../', import.meta.url);

describe('generated artefacts match the code', () => {
  after(() => stopScratchCluster());

  it('schema.graphql is what the resolvers emit (regenerate: node server/dist/main.js schema > schema.graphql)', async () => {
    const committed = await fs.readFile(new URL('schema.graphql', root), 'utf8');
    assert.equal(committed, await schemaText());
  });

  it('the migrations produce exactly the entities’ schema (new migration: node scripts/make-migration.mjs NAME)', async () => {
    const db = await createTestDatabase();
    const orm = await openDatabase(db.url, createLogger('silent'));
    try {
      const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      assert.equal(diff.trim(), '', `the entities differ from the migrations:\n${diff}`);
    } finally {
      await orm.close();
      await db.drop();
    }
  });
});
