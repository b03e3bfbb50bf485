import type { EntityManager } from '@mikro-orm/postgresql';

/** The graphile-worker tasks of the daemon. */
export const TASKS = {
  BUILD: 'build',
  PROCESS_UPLOAD: 'process_upload',
  INSTALL_UPLOAD: 'install_upload',
  /** One distribution of an installed upload's `auto-ports` option. */
  AUTO_PORT: 'auto_port',
  /** The notification mail of one event, on a runner of its own (see notify/notifier.ts). */
  NOTIFY_EVENT: 'notify_event',
  /** One event hook for one event, on the delivery runner (see hooks/event-hooks.ts). */
  RUN_HOOK: 'run_hook',
  /** One event to one webhook, on the delivery runner (see hooks/webhook-delivery.ts). */
  DELIVER_WEBHOOK: 'deliver_webhook',
  /** Builds the keyring package again when what it holds changed (after a configuration change). */
  KEYRING_PACKAGE: 'keyring_package',
  /** Migrates an installed keyring package along the whole chain of its suite. */
  KEYRING_MIGRATE: 'keyring_migrate',
  /** Chooses the builder of a queued build (this instance or a remote) and hands it over. */
  DISPATCH_BUILD: 'dispatch_build',
  /** Sends the signed result of a build another instance asked for back to it, until it has it. */
  SEND_BUILD_RESULT: 'send_build_result',
} as const;

export interface AddJobOptions {
  /** At most one pending job per key (a second add replaces the pending one). */
  jobKey: string;
  maxAttempts?: number;
  /** Not before then; with a jobKey, adding again moves a pending job (a debounce). */
  runAt?: Date;
}

/**
 * Queues a graphile-worker job in the caller's transaction: the job exists exactly when the rows it
 * works on do, and a worker picks it up through NOTIFY as soon as the transaction commits.
 */
export async function addJob(tx: EntityManager, task: string, payload: object, opts: AddJobOptions): Promise<void> {
  if (!tx.isInTransaction()) throw new Error('addJob needs a transaction: the job and its rows commit together');
  await tx
    .getConnection()
    .execute(
      `select graphile_worker.add_job(?, ?::json, job_key => ?, max_attempts => ?, run_at => coalesce(?::timestamptz, now()))`,
      [task, JSON.stringify(payload), opts.jobKey, opts.maxAttempts ?? 5, opts.runAt?.toISOString() ?? null],
      'all',
      tx.getTransactionContext(),
    );
}

/** Removes a job that no worker holds; returns whether there was one. */
export async function removePendingJob(tx: EntityManager, jobKey: string): Promise<boolean> {
  const removed = await tx
    .getConnection()
    .execute<{ id: string }[]>(
      `delete from graphile_worker._private_jobs where key = ? and locked_at is null returning id`,
      [jobKey],
      'all',
      tx.getTransactionContext(),
    );
  return removed.length > 0;
}
