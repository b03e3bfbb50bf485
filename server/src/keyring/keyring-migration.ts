/**
 * Whether an installed upload is a keyring package to migrate along its suite's chain (mini-buildd's
 * `keyring_packages` migrates it unstable -> testing -> stable unless `--without-migration`). Pure,
 * so the pipeline asks it in the transaction that records INSTALLED and queues the job there.
 */
import { type Upload, UploadVia } from '../upload/upload.entity.js';

/** The origin (`port.from`) of every keyring package upload. */
export const KEYRING_ORIGIN = 'keyring package';

export interface KeyringMigrationJob {
  /** Where it was installed, the start of the migration. */
  distribution: string;
  jobKey: string;
}

/**
 * The migration job of an installed upload, or null: only a keyring package asked to migrate along,
 * and only when its suite migrates somewhere (`migratesTo` of its suite in the layout).
 */
export function keyringMigrationJob(
  upload: Pick<Upload, 'id' | 'via' | 'port' | 'targetDistribution'>,
  migratesTo: string | null,
): KeyringMigrationJob | null {
  if (upload.via !== UploadVia.PORT || upload.port?.from !== KEYRING_ORIGIN || upload.port.migrateAlong !== true)
    return null;
  if (!upload.targetDistribution || !migratesTo) return null;
  return { distribution: upload.targetDistribution, jobKey: `keyring-migrate:${upload.id}` };
}
