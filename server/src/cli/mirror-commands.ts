import path from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';
import { print } from './output.js';

const MIRROR_FIELDS = 'repository directory distributions architectures resigned poolFiles bytes seconds';

export interface MirrorRow {
  repository: string;
  directory: string;
  distributions: string[];
  architectures: string[];
  resigned: string[];
  poolFiles: number;
  bytes: number;
  seconds: number;
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

export function describeMirror(m: MirrorRow): string {
  return [
    `mirrored ${m.repository} into ${m.directory} in ${m.seconds.toFixed(1)} s: ` +
      `${m.distributions.length} distribution${m.distributions.length === 1 ? '' : 's'}, ` +
      `${m.poolFiles} pool file${m.poolFiles === 1 ? '' : 's'}, ${size(m.bytes)}`,
    `architectures: ${m.architectures.join(' ') || '(none)'} (and sources)`,
    ...m.distributions.map((d) => `  ${d}${m.resigned.includes(d) ? '  (narrowed, signed again)' : ''}`),
    'copy the directory to any web space; apt needs its dists/ and pool/ and the archive key (debyard key --binary)',
  ].join('\n');
}

const repeatable = (value: string, all: string[] | undefined) => [...(all ?? []), value];

/** `mirror`: a signed copy of a repository for any web space (admin). */
export function addMirrorCommands(program: Command, client: ClientFactory): void {
  program
    .command('mirror <repository> <directory>')
    .description(
      'write a complete, signed copy of REPOSITORY (or the chosen codenames, suites and architectures of it) into ' +
        "DIRECTORY on the daemon's host, ready to be copied to any web space; DIRECTORY must be new, empty or an " +
        'earlier mirror, which is updated (admin)',
    )
    .option('--codename <codename>', 'only this codename, e.g. bookworm; repeat for more', repeatable)
    .option('--suite <suite>', 'only this suite, e.g. stable; repeat for more', repeatable)
    .option('--arch <arch>', 'only this binary architecture (sources are always copied); repeat for more', repeatable)
    .option('--rollbacks <n>', 'also copy the first N rollback distributions of each suite', '0')
    .action(
      async (
        repository: string,
        directory: string,
        opts: { codename?: string[]; suite?: string[]; arch?: string[]; rollbacks: string },
        cmd: Command,
      ) => {
        if (!/^\d{1,4}$/.test(opts.rollbacks))
          throw new CliError(`--rollbacks: "${opts.rollbacks}" is not a whole number, e.g. 0 or 3`, EXIT.USAGE);
        const { api, json } = client(cmd);
        const { mirrorRepository } = await api.request<{ mirrorRepository: MirrorRow }>(
          `mutation($repository: String!, $directory: String!, $codenames: [String!], $suites: [String!], $architectures: [String!], $rollbacks: Int) {
            mirrorRepository(repository: $repository, directory: $directory, codenames: $codenames, suites: $suites, architectures: $architectures, rollbacks: $rollbacks) { ${MIRROR_FIELDS} }
          }`,
          {
            repository,
            // The daemon usually runs on this host: a relative directory means the one from here.
            directory: path.resolve(directory),
            codenames: opts.codename ?? null,
            suites: opts.suite ?? null,
            architectures: opts.arch ?? null,
            rollbacks: Number(opts.rollbacks),
          },
        );
        print(json, mirrorRepository, () => describeMirror(mirrorRepository));
      },
    );
}
