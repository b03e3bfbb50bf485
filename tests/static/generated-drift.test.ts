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

  it('client/src/gql/schema.ts holds the types of schema.graphql (regenerate: npm run codegen -w client)', async () => {
    const codegen = (await import(new URL('client/scripts/codegen.mjs', root).href)) as {
      generateSchemaTypes(sdl: string): Promise<string>;
    };
    const sdl = await fs.readFile(new URL('schema.graphql', root), 'utf8');
    const committed = await fs.readFile(new URL('client/src/gql/schema.ts', root), 'utf8');
    const generated = await codegen.generateSchemaTypes(sdl);
    if (committed === generated) return;
    // Name the first line that differs: the whole 1,200-line file is no help in a failure message.
    const [had, want] = [committed.split('\n'), generated.split('\n')];
    const differs = want.findIndex((text, i) => text !== had[i]);
    const line = differs < 0 ? want.length : differs; // the committed file has lines past the end
    assert.fail(
      `client/src/gql/schema.ts is stale: line ${line + 1} is ${JSON.stringify(had[line])}, ` +
        `schema.graphql makes it ${JSON.stringify(want[line] ?? 'the end')} (npm run codegen -w client)`,
    );
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
