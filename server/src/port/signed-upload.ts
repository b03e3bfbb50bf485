/**
 * The last steps every source package debyard makes itself goes through (ports, external ports, the
 * keyring package): `dpkg-source -b`, the .dsc clearsigned with the instance key, `dpkg-genchanges -S
 * -sa`, the .changes clearsigned, and the hand-over to the intake as an upload `via PORT`. From there
 * it is checked, built and installed like any upload.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { withoutEpoch } from '../upload/debversion.js';
import { type Intake, listChangesFiles } from '../upload/intake.js';
import type { PortOrigin } from '../upload/upload.entity.js';
import { buildSource, generateChanges, SourceToolError, type ToolEnvironment } from './source-tools.js';

export interface SignedUploadRequest {
  /** A directory made by {@link Intake.portDir}; it is gone afterwards. */
  dir: string;
  /** The source tree's directory name in `dir`, its debian/changelog already saying `version`. */
  tree: string;
  source: string;
  version: string;
  distribution: string;
  /** The changelog entries after this version go into the .changes (-v); default: the top one only. */
  since?: string;
  /** Extra .changes fields (dpkg-genchanges -D). */
  fields?: Record<string, string>;
  origin: PortOrigin;
}

/** Builds, signs and hands over the source in `req.tree`; returns the new Upload's id. */
export async function handOverSignedSource(
  req: SignedUploadRequest,
  deps: { keys: InstanceKeyStore; intake: Intake; env: ToolEnvironment },
): Promise<number> {
  const { dir, tree } = req;
  await buildSource(dir, tree, deps.env);
  const base = `${req.source}_${withoutEpoch(req.version)}`;
  const dscPath = path.join(dir, `${base}.dsc`);
  await fs.writeFile(dscPath, await deps.keys.signCleartext(await fs.readFile(dscPath, 'utf8')));
  const changes = await generateChanges(path.join(dir, tree), { since: req.since, fields: req.fields ?? {} }, deps.env);
  const changesName = `${base}_source.changes`;
  const signed = await deps.keys.signCleartext(changes);
  const listed = listChangesFiles(Buffer.from(signed), changesName);
  if (!listed) throw new SourceToolError('dpkg-genchanges', `${changesName} lists no files`);
  // Complete files are read-only: the intake hands over nothing else.
  for (const name of listed) await fs.chmod(path.join(dir, name), 0o440);
  await fs.writeFile(path.join(dir, changesName), signed, { mode: 0o440 });
  return deps.intake.handOverPort(dir, changesName, {
    source: req.source,
    version: req.version,
    distribution: req.distribution,
    origin: req.origin,
  });
}
