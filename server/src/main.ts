#!/usr/bin/env node
import 'reflect-metadata';
import { Command, Option } from 'commander';
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
