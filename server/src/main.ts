#!/usr/bin/env node
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addClientCommands, client, readSecret } from './cli/commands.js';
import { addAccountCommands } from './cli/account-commands.js';
import { addConfigCommands } from './cli/config-commands.js';
import { addBuildCommands } from './cli/build-commands.js';
import { addPackageCommands } from './cli/package-commands.js';
import { addPortCommands } from './cli/port-commands.js';
import { addSubscriptionCommands } from './cli/subscription-commands.js';
import { addStagingCommands } from './cli/staging-commands.js';
import { addMirrorCommands } from './cli/mirror-commands.js';
import { addKeyringCommands } from './cli/keyring-commands.js';
import { addSnapshotCommands } from './cli/snapshot-commands.js';
import { addRemoteCommands } from './cli/remote-commands.js';
import { addWebhookCommands } from './cli/webhook-commands.js';
import { EXIT } from './cli/api-client.js';
import { describeFailure, formatFailure } from './cli/output.js';
import { describeSettings, resolveServeConfig, type ServeFlags } from './config/config.js';
import { VERSION } from './version.js';

// The long --version is only the whole command line (`debyard --version`): commander reads a program
// option anywhere, and `debyard port … --version V` needs it for itself.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  console.log(VERSION);
  process.exit(0);
}

const program = new Command('debyard')
  .description('a build daemon for Debian-based distributions')
  .version(VERSION, '-V', 'output the version number (also --version, alone)')
  .exitOverride()
  // A parse error is thrown as a CommanderError and printed below, like every other failure.
  .configureOutput({ outputError: () => {} });

const serve = program
  .command('serve')
  .description('run the daemon (HTTP, FTP incoming, database) in the foreground until SIGTERM/SIGINT');
for (const s of describeSettings()) {
  const name = s.flag.replace(/^--/, '');
  serve.addOption(new Option(`${s.flag} <value>`, `${name} (env ${s.env}, default ${s.fallback})`));
}
serve.addHelpText(
  'after',
  '\nWith DATABASE_URL=postgres://… it uses that server; without, its own cluster in <data-dir>/postgres.',
);
serve.action(async (flags: ServeFlags) => {
  const config = resolveServeConfig(flags);
  const { createLogger } = await import('./log.js');
  const { serve: run } = await import('./daemon/serve.js');
  const logger = createLogger();
  await run(config, logger);
  process.exit(0);
});

program
  .command('worker')
  .description(
    'run a build worker in the foreground: it takes builds from a packager’s queue (its PostgreSQL) with its own slots',
  )
  .requiredOption('--database <url>', 'the packager’s PostgreSQL (env DATABASE_URL)', process.env.DATABASE_URL)
  .requiredOption(
    '--packager <url>',
    'the packager’s HTTP base URL, e.g. http://ernie:8066 (env DEBYARD_URL)',
    process.env.DEBYARD_URL,
  )
  .option('--token-file <file>', 'a file holding an ADMIN token of the packager (else env DEBYARD_TOKEN)')
  .option(
    '--data-dir <dir>',
    'where builds run (env DEBYARD_DATA_DIR)',
    process.env.DEBYARD_DATA_DIR ?? '/var/lib/debyard-worker',
  )
  .option('--slots <n>', 'builds at a time', '1')
  .option('--name <name>', 'the worker’s name in builds and on the builders page', `worker@${os.hostname()}`)
  .option('--user <user>', 'the system user to run as, when started as root', 'debyard')
  .action(
    async (flags: {
      database: string;
      packager: string;
      tokenFile?: string;
      dataDir: string;
      slots: string;
      name: string;
      user: string;
    }) => {
      const slots = Number(flags.slots);
      if (!Number.isInteger(slots) || slots < 1 || slots > 64)
        throw new InvalidArgumentError('--slots must be 1 to 64');
      if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/.test(flags.name))
        throw new InvalidArgumentError('--name: letters, digits and . _ @ - only');
      const token = (
        flags.tokenFile ? readFileSync(flags.tokenFile, 'utf8') : (process.env.DEBYARD_TOKEN ?? '')
      ).trim();
      if (!token) throw new InvalidArgumentError('a worker needs an ADMIN token: --token-file FILE or DEBYARD_TOKEN');
      const { createLogger } = await import('./log.js');
      const { dropPrivileges } = await import('./daemon/privileges.js');
      const { BuildWorker } = await import('./build/worker.js');
      const logger = createLogger();
      dropPrivileges({ user: flags.user, dataDir: path.resolve(flags.dataDir), logger });
      const worker = new BuildWorker({
        databaseUrl: flags.database,
        packagerUrl: flags.packager,
        token,
        dataDir: path.resolve(flags.dataDir),
        slots,
        name: flags.name,
        logger,
      });
      await worker.start();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      logger.info('stopping: running builds go back to the queue');
      await worker.stop();
      process.exit(0);
    },
  );

program
  .command('schema', { hidden: true })
  .description('print the GraphQL schema (what schema.graphql holds)')
  .action(async () => {
    const { schemaText } = await import('./graphql/emit-schema.js');
    process.stdout.write(await schemaText());
  });

addClientCommands(program);
addConfigCommands(program, client);
addBuildCommands(program, client);
addPackageCommands(program, client);
addPortCommands(program, client);
addSubscriptionCommands(program, client);
addStagingCommands(program, client);
addMirrorCommands(program, client);
addKeyringCommands(program, client);
addSnapshotCommands(program, client);
addRemoteCommands(program, client);
addWebhookCommands(program, client);
addAccountCommands(program, client, readSecret);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const failure = describeFailure(err);
  if (failure) console.error(formatFailure(failure, program.opts<{ json?: boolean }>().json === true));
  process.exitCode = failure?.exitCode ?? EXIT.OK;
}
