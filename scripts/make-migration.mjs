// Writes a new migration for the difference between the entities and the committed migrations.
// Usage: npm run build && node scripts/make-migration.mjs [name]
import { MikroORM } from '@mikro-orm/postgresql';
import { ormConfig } from '../server/dist/db/orm.js';
import { createTestDatabase, stopScratchCluster } from '../tests/dist/support/postgres.js';

const db = await createTestDatabase();
try {
  const orm = await MikroORM.init(ormConfig(db.url));
  const migrator = orm.getMigrator();
  await migrator.up();
  const pending = await migrator.getExecutedMigrations();
  const result = await migrator.createMigration(undefined, false, pending.length === 0, process.argv[2]);
  console.log(
    result.fileName ? `wrote migrations/${result.fileName}` : 'the schema matches the migrations: nothing to write',
  );
  await orm.close();
} finally {
  await db.drop();
  await stopScratchCluster();
}
