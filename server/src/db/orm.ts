import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Event } from '../events/event.entity.js';
import { User } from '../auth/user.entity.js';
import { ApiToken } from '../auth/api-token.entity.js';
import type { Logger } from '../log.js';

export const ENTITIES = [Event, User, ApiToken];

/** The committed migrations at the top of the repository (generated as CommonJS by MikroORM). */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

export function ormConfig(clientUrl: string, logger?: Logger): Options {
  return defineConfig({
    clientUrl,
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: {
      path: MIGRATIONS_DIR,
      glob: 'Migration*.js',
      emit: 'js',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
    pool: { min: 0, max: 8 },
    discovery: { warnWhenNoEntities: false },
    debug: false,
    logger: logger ? (message) => logger.debug({ orm: true }, message) : undefined,
  });
}

/** Connects and applies pending migrations; the daemon never runs on an old schema. */
export async function openDatabase(clientUrl: string, logger?: Logger): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(clientUrl, logger));
  await orm.getMigrator().up();
  return orm;
}
