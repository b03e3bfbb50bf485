import type { MikroORM } from '@mikro-orm/postgresql';
import type { JobHelpers, TaskList } from 'graphile-worker';
import { Event, EventType } from '../events/event.entity.js';
import type { EventService, RecordHook } from '../events/event.service.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { addJob, TASKS } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { eventJson, isDelivered } from './deliverable.js';
import { listHooks, resolveHook, runHook } from './hook-runner.js';

/** graphile-worker retries after e¹ and e² seconds: a hook that keeps failing is given up within a minute or so. */
export const HOOK_MAX_ATTEMPTS = 3;

export interface EventHooksOptions {
  orm: MikroORM;
  events: EventService;
  logger: Logger;
  /** The daemon's public HTTP URL, for the hooks' DEBYARD_URL. */
  baseUrl(): string;
}

/**
 * Event hooks (mini-buildd's `etc/event-hooks/`): for every event, one `run_hook` job per executable in
 * the Daemon's `hooksDir`, queued in the event's own transaction, so a restart loses none and a rolled-back
 * event runs none. Each job runs its hook as the daemon user with the event as JSON on stdin, within the
 * Daemon's `hookTimeout`; a failure is logged and retried, the last one recorded as HOOK_FAILED.
 */
export class EventHooks {
  private stopping = new AbortController();

  constructor(private readonly opts: EventHooksOptions) {}

  /** Kills the running hooks' process groups (the engine stops); their jobs fail and are retried later. */
  cancelRunning(): void {
    this.stopping.abort();
    this.stopping = new AbortController();
  }

  /** The EventService hook. It never throws for the hooks directory: a broken one must not stop the pipeline. */
  readonly hook: RecordHook = async (tx, event) => {
    if (!isDelivered(event.type)) return;
    const [daemon] = (await tx.execute('select hooks_dir from daemon_config where id = 1')) as { hooks_dir: string }[];
    const dir = daemon?.hooks_dir;
    if (!dir) return;
    let hooks: Awaited<ReturnType<typeof listHooks>>;
    try {
      hooks = await listHooks(dir);
    } catch (err) {
      this.opts.logger.warn(
        { event: event.id, dir, err: (err as Error).message },
        `event hooks: cannot read ${dir}; no hook runs for event ${event.id}`,
      );
      return;
    }
    for (const { name, reason } of hooks.refused)
      this.opts.logger.warn({ event: event.id, hook: name, reason }, `event hook not run: ${reason}`);
    for (const name of hooks.runnable)
      await addJob(
        tx,
        TASKS.RUN_HOOK,
        { event: event.id, hook: name },
        { jobKey: `hook:${event.id}:${name}`, maxAttempts: HOOK_MAX_ATTEMPTS },
      );
  };

  tasks(): TaskList {
    return { [TASKS.RUN_HOOK]: (payload, helpers) => this.runJob(payload, helpers) };
  }

  private async runJob(payload: unknown, helpers: JobHelpers): Promise<void> {
    const p = (payload ?? {}) as { event?: unknown; hook?: unknown };
    const eventId = String(p.event ?? '');
    const name = String(p.hook ?? '');
    if (!/^\d+$/.test(eventId) || !name) throw new Error(`bad run_hook payload ${JSON.stringify(payload)}`);
    const { attempts, max_attempts: maxAttempts } = helpers.job;
    const em = this.opts.orm.em.fork();
    const event = await em.findOne(Event, eventId);
    const daemon = await em.findOne(DaemonConfig, 1);
    const log = { event: eventId, hook: name, attempt: attempts, of: maxAttempts };
    if (!event || !daemon?.hooksDir) {
      this.opts.logger.info(
        log,
        `event hook ${name} not run: ${event ? 'hooks are switched off' : 'the event is gone'}`,
      );
      return;
    }
    try {
      const file = await resolveHook(daemon.hooksDir, name);
      const { ms } = await runHook({
        file,
        input: JSON.stringify(eventJson(event)),
        env: {
          DEBYARD_EVENT_ID: event.id,
          DEBYARD_EVENT_TYPE: event.type,
          DEBYARD_IDENTITY: daemon.identity,
          DEBYARD_URL: this.opts.baseUrl(),
          DEBYARD_HOOK_ATTEMPT: String(attempts),
        },
        timeoutMs: daemon.hookTimeout * 1000,
        cwd: daemon.hooksDir,
        signal: this.stopping.signal,
      });
      this.opts.logger.info({ ...log, ms }, `event hook ${name} ran for event ${eventId} (${event.type}) in ${ms} ms`);
    } catch (err) {
      const reason = (err as Error).message;
      const last = attempts >= maxAttempts;
      this.opts.logger.warn(
        { ...log, reason },
        `event hook ${name} failed for event ${eventId} (attempt ${attempts} of ${maxAttempts}): ${reason}${last ? '; giving up' : '; graphile-worker retries it'}`,
      );
      if (last)
        await this.opts.events.record(
          this.opts.orm.em.fork(),
          EventType.HOOK_FAILED,
          `event hook ${name} failed for event ${eventId} (${event.type}) after ${attempts} attempts: ${reason}`,
          { event: eventId, eventType: event.type, hook: name, attempts, reason },
        );
      throw err;
    }
  }
}
