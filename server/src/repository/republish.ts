import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { KindContext } from '../lifecycle/config-kind.js';
import { parseRelease } from './publish.js';
import { loadRepository, publishedDistributions, repreproDistributions, repreproFor } from './repository.kind.js';
import { Repository } from './repository.entity.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Whether a published Release must be signed again: it has no Valid-Until while the repository wants
 * one, or less than half of `validDays` is left (a daily run then never lets it lapse).
 */
export function dueForResigning(release: string | null, validDays: number, now: Date): boolean {
  if (validDays <= 0 || release === null) return false;
  const validUntil = parseRelease(release).paragraph.get('Valid-Until');
  const until = validUntil ? Date.parse(validUntil) : NaN;
  return Number.isNaN(until) || until - now.getTime() < (validDays * DAY_MS) / 2;
}

/**
 * The scheduled re-publishing of every active repository: reprepro's configuration written again (so
 * a daemon of a newer version publishes with its sign hook without anyone preparing again), and the
 * distributions whose
 * Valid-Until runs out exported again (new Date, Valid-Until and signature). Returns the distributions
 * it exported.
 */
export async function republishRepositories(
  orm: MikroORM,
  ctx: Omit<KindContext, 'em'>,
  now = new Date(),
): Promise<string[]> {
  const em = orm.em.fork();
  const daemon = await em.findOne(DaemonConfig, 1);
  if (!daemon?.keyFingerprint) return [];
  const exported: string[] = [];
  try {
    // The sign hook signs from the GNUPGHOME, a cache of the key that may be gone.
    await ctx.keys.ensureGnupgHome();
  } catch (err) {
    ctx.logger.warn({ err }, 'cannot republish: the instance key is not usable');
    return [];
  }
  for (const repo of await em.find(Repository, { status: ConfigStatus.ACTIVE }, { orderBy: { identity: 'asc' } })) {
    try {
      await loadRepository(em, repo);
      const reprepro = repreproFor({ ...ctx, em }, repo);
      // ACTIVE means as last checked (an edit makes it PREPARED until the next check): configuring
      // again changes only what this version of debyard writes differently.
      const { changed } = await reprepro.configure(repreproDistributions(repo, daemon));
      if (changed) {
        await reprepro.export();
        exported.push(...publishedDistributions(repo).map((p) => p.name));
        continue;
      }
      const due: string[] = [];
      for (const p of publishedDistributions(repo)) {
        const release = await readFile(path.join(reprepro.basedir, 'dists', p.name, 'Release'), 'utf8').catch(
          () => null,
        );
        if (dueForResigning(release, repo.releaseValidDays, now)) due.push(p.name);
      }
      if (due.length > 0) {
        await reprepro.run(['export', ...due]);
        exported.push(...due);
      }
    } catch (err) {
      ctx.logger.warn({ err, repository: repo.identity }, 'republishing failed; the next run tries again');
    }
  }
  if (exported.length > 0) ctx.logger.info({ distributions: exported }, 'republished');
  return exported;
}
