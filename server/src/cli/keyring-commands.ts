import type { Command } from 'commander';
import { EXIT } from './api-client.js';
import { follow } from './commands.js';
import type { ClientFactory } from './config-commands.js';
import { formatEvent, print, table } from './output.js';
import { newestEventId, UploadWaiter } from './port-commands.js';

export interface KeyringTargetRow {
  distribution: string;
  version: string;
  state: 'UPLOADED' | 'UP_TO_DATE' | 'PENDING' | 'REFUSED';
  upload: { id: string; state: string } | null;
  reason: string | null;
}

export function describeKeyringTargets(name: string, rows: KeyringTargetRow[]): string {
  return [
    `${name}, signed by the instance key:`,
    table(
      ['DISTRIBUTION', 'VERSION', 'STATE', 'UPLOAD'],
      rows.map((r) => [
        r.distribution,
        r.version || '-',
        r.state.toLowerCase().replace(/_/g, ' '),
        r.upload?.id ?? (r.reason ? r.reason : '-'),
      ]),
    ),
  ].join('\n');
}

/** `keyring-package`: build <identity>-archive-keyring where it is not up to date (admin). */
export function addKeyringCommands(program: Command, client: ClientFactory): void {
  program
    .command('keyring-package')
    .description(
      'build <identity>-archive-keyring (the archive key, a deb822 .sources per distribution with Signed-By, a ' +
        'dput-ng profile) into every distribution whose suite builds it, where its version is not there yet; ' +
        'once installed it is migrated along the whole chain of its suite (unstable -> testing -> stable); from ' +
        'then on it is rebuilt (and migrated along) when the key or the repositories change (admin)',
    )
    .option(
      '-d, --distribution <dist>',
      'only this distribution; repeat for more',
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
    )
    .option('-M, --without-migration', 'leave it in the distributions it is uploaded to')
    .option('--wait', 'follow the new uploads until each is installed, failed or rejected: exit 1 unless all were')
    .action(async (opts: { distribution?: string[]; withoutMigration?: boolean; wait?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { keyringPackage } = await api.request<{ keyringPackage: { name: string } | null }>(
        '{ keyringPackage { name } }',
      );
      const cursor = opts.wait ? await newestEventId(api) : null;
      const { buildKeyringPackages: rows } = await api.request<{ buildKeyringPackages: KeyringTargetRow[] }>(
        `mutation($d: [String!], $m: Boolean!) { buildKeyringPackages(distributions: $d, withoutMigration: $m) {
           distribution version state upload { id state } reason } }`,
        { d: opts.distribution ?? null, m: opts.withoutMigration ?? false },
      );
      const name = keyringPackage?.name ?? 'the keyring package';
      const refused = rows.some((r) => r.state === 'REFUSED');
      const uploads = rows.flatMap((r) => (r.upload ? [r.upload.id] : []));
      if (cursor === null || !uploads.length) {
        print(json, rows, () => describeKeyringTargets(name, rows));
        if (refused) process.exitCode = EXIT.FAILED;
        return;
      }
      if (!json) console.log(describeKeyringTargets(name, rows));
      const waiter = new UploadWaiter(uploads);
      await follow(api, cursor, (e) => {
        if (waiter.see(e) && !json) console.log(formatEvent(e));
        return waiter.done;
      });
      if (json) print(json, { targets: rows, outcomes: waiter.outcomes }, () => '');
      process.exitCode = refused ? EXIT.FAILED : waiter.exitCode;
    });
}
