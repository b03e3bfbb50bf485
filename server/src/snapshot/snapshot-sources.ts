/**
 * What snapshots hold, for the consumer views (`debyard ls|show`, the package tracker, the repository
 * browser): read from each snapshot's published Sources indices, as a client following it sees them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { containedPath } from '../util/paths.js';
import { Snapshot } from './snapshot.entity.js';

/** One source version in one snapshot. */
export interface SnapshotSource {
  repository: string;
  /** The distribution it is a snapshot of: `<codename>-<repo>-<suite>`. */
  distribution: string;
  snapshot: string;
  source: string;
  version: string;
  component: string;
}

/** The snapshots (of one repository, or all), oldest first per distribution. */
export function loadSnapshots(em: EntityManager, repository?: string): Promise<Snapshot[]> {
  return em.find(Snapshot, repository ? { repository } : {}, {
    orderBy: { repository: 'asc', distribution: 'asc', createdAt: 'asc', id: 'asc' },
  });
}

/** The source versions `snapshots` hold (only `source`'s when given), in the order of `snapshots`. */
export async function snapshotSources(
  dataDir: string,
  snapshots: Snapshot[],
  source?: string,
): Promise<SnapshotSource[]> {
  const found: SnapshotSource[] = [];
  for (const s of snapshots) {
    const basedir = path.join(dataDir, 'repositories', s.repository);
    for (const component of s.components) {
      const file = containedPath(
        basedir,
        path.join('dists', s.distribution, 'snapshots', s.name, component, 'source', 'Sources'),
      );
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      for (const stanza of text.split(/\n\s*\n/)) {
        const name = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
        const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
        if (!name || !version || (source !== undefined && name !== source)) continue;
        found.push({
          repository: s.repository,
          distribution: s.distribution,
          snapshot: s.name,
          source: name,
          version,
          component,
        });
      }
    }
  }
  return found;
}
