import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import pgConnectionString from 'pg-connection-string';
import { Event } from '../events/event.entity.js';
import { User } from '../auth/user.entity.js';
import { ApiToken } from '../auth/api-token.entity.js';
import { AptKey } from '../archive/apt-key.entity.js';
import { Archive } from '../archive/archive.entity.js';
import { PrioritySource } from '../archive/priority-source.entity.js';
import { Source } from '../archive/source.entity.js';
import { Architecture, ArchitectureOption, Component, Distribution } from '../distribution/distribution.entity.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { Layout, Suite, SuiteOption } from '../layout/layout.entity.js';
import { Repository } from '../repository/repository.entity.js';
import { Uploader } from '../uploader/uploader.entity.js';
import { Chroot } from '../chroot/chroot.entity.js';
import { Build } from '../build/build.entity.js';
import { Upload } from '../upload/upload.entity.js';
import { PackageSubscription } from '../notify/subscription.entity.js';
import { Webhook } from '../hooks/webhook.entity.js';
import { KeyringPackageState } from '../keyring/keyring-state.entity.js';
import { Snapshot } from '../snapshot/snapshot.entity.js';
import { Remote } from '../remote/remote.entity.js';
import { WorkerProcess } from '../build/worker-process.entity.js';
import type { Logger } from '../log.js';

export const ENTITIES = [
  Event,
  User,
  ApiToken,
  DaemonConfig,
  Archive,
  AptKey,
  Source,
  PrioritySource,
  Component,
  Architecture,
  Distribution,
  ArchitectureOption,
  Suite,
  SuiteOption,
  Layout,
  Repository,
  Uploader,
  Chroot,
  Remote,
  WorkerProcess,
  Build,
  Upload,
  PackageSubscription,
  Webhook,
  KeyringPackageState,
  Snapshot,
];

/** The committed migrations at the top of the repository (generated as CommonJS by MikroORM). */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/**
 * MikroORM reads only host, port, user, password and database from a URL; libpq-style URLs also put a
 * unix socket directory in `?host=` (the managed database does), so the URL is parsed here, as pg does.
 */
export function ormConfig(databaseUrl: string, logger?: Logger): Options {
  const c = pgConnectionString.parse(databaseUrl);
  return defineConfig({
    host: c.host ?? undefined,
    port: c.port ? Number(c.port) : undefined,
    user: c.user || undefined,
    password: c.password || undefined,
    dbName: c.database ?? undefined,
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
export async function openDatabase(databaseUrl: string, logger?: Logger): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(databaseUrl, logger));
  await orm.getMigrator().up();
  return orm;
}
