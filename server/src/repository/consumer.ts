import type { EntityManager } from '@mikro-orm/postgresql';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import { publishedDistributions, type PublishedDistribution } from './repository.kind.js';
import { Repository } from './repository.entity.js';

export type SourcesFormat = 'ONE_LINE' | 'DEB822';

export interface SourcesListOptions {
  baseUrl: string;
  codenames?: string[];
  repositories?: string[];
  suites?: string[];
  rollbacks?: boolean;
  withSources?: boolean;
  format: SourcesFormat;
}

/** Where the keyring package (and people following our apt lines) put the instance key. */
export function keyringPath(identity: string): string {
  return `/usr/share/keyrings/${identity}-archive-keyring.gpg`;
}

/** apt lines for the prepared repositories, as one-line `deb` entries or deb822 `.sources` stanzas. */
export async function sourcesList(em: EntityManager, opts: SourcesListOptions): Promise<string> {
  const daemon = await em.findOne(DaemonConfig, 1);
  const identity = daemon?.identity ?? 'debyard';
  const repos = await em.find(
    Repository,
    {
      status: { $ne: ConfigStatus.REMOVED },
      ...(opts.repositories?.length ? { identity: { $in: opts.repositories } } : {}),
    },
    {
      populate: [
        'layout.suiteOptions.suite',
        'distributions.baseSource',
        'distributions.components',
        'distributions.architectureOptions.architecture',
      ],
      orderBy: { identity: 'asc' },
    },
  );
  const signedBy = keyringPath(identity);
  const out: string[] = [];
  for (const repo of repos) {
    const url = `${opts.baseUrl.replace(/\/+$/, '')}/repositories/${repo.identity}`;
    const wanted = (p: PublishedDistribution) =>
      (!opts.codenames?.length || opts.codenames.includes(p.codename)) &&
      (!opts.suites?.length || opts.suites.includes(p.suite)) &&
      (opts.rollbacks || p.rollback === null);
    for (const p of publishedDistributions(repo).filter(wanted)) {
      const types = opts.withSources ? ['deb', 'deb-src'] : ['deb'];
      if (opts.format === 'ONE_LINE')
        for (const t of types) out.push(`${t} [signed-by=${signedBy}] ${url} ${p.name} ${p.components.join(' ')}`);
      else
        out.push(
          [
            `Types: ${types.join(' ')}`,
            `URIs: ${url}`,
            `Suites: ${p.name}`,
            `Components: ${p.components.join(' ')}`,
            `Signed-By: ${signedBy}`,
          ].join('\n'),
        );
    }
  }
  return out.length ? out.join(opts.format === 'ONE_LINE' ? '\n' : '\n\n') + '\n' : '';
}

/**
 * dput.cf sections for this instance: `[debyard-<identity>]` (dput's ftp method, anonymous, into the
 * incoming root) and, with `httpUrl`, `[debyard-<identity>-http]` (dput's http method, `PUT /upload/`).
 */
export function dputConfig(identity: string, ftpUrl: string, httpUrl?: string): string {
  const u = new URL(ftpUrl);
  const ftp = [
    `[debyard-${identity}]`,
    'method           = ftp',
    `fqdn             = ${u.hostname}:${u.port || '21'}`,
    'login            = anonymous',
    'incoming         = /',
    'passive_ftp      = 1',
    '',
  ];
  if (!httpUrl) return ftp.join('\n');
  const h = new URL(httpUrl);
  const http = [
    `[debyard-${identity}-http]`,
    `method           = ${h.protocol === 'https:' ? 'https' : 'http'}`,
    `fqdn             = ${h.host}`,
    'incoming         = /upload/',
    '',
  ];
  return [...ftp, ...http].join('\n');
}
