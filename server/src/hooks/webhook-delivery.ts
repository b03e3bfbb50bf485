import type { MikroORM } from '@mikro-orm/postgresql';
import type { JobHelpers, TaskList } from 'graphile-worker';
import { Event, EventType } from '../events/event.entity.js';
import type { EventService, RecordHook } from '../events/event.service.js';
import { addJob, TASKS } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { eventJson, isDelivered } from './deliverable.js';
import { signBody, webhookBody, WEBHOOK_HEADERS, type WebhookEventBody } from './signature.js';
import { Webhook } from './webhook.entity.js';

/**
 * graphile-worker waits e^min(attempt, 10) s between attempts: 20 attempts span about two and a half
 * days (ten hours for the first ten, then one every six hours).
 */
export const WEBHOOK_MAX_ATTEMPTS = 20;
/** Connect, answer and body: a target that hangs costs one attempt, not a delivery slot. */
const WEBHOOK_TIMEOUT_MS = 10_000;
const ANSWER_CHARS = 200;

/** How one POST went: accepted (2xx), worth another attempt (5xx, 408, 429, no answer), or refused for good. */
export interface PostResult {
  outcome: 'accepted' | 'retry' | 'refused';
  status: number | null;
  /** For people: "HTTP 200 in 12 ms", "connection refused (ECONNREFUSED)", … */
  message: string;
  ms: number;
}

/**
 * Outgoing webhooks: for every event, one `deliver_webhook` job per active webhook that wants its type,
 * queued in the event's own transaction. The job POSTs the event as signed JSON; a refusal it may
 * recover from is retried with graphile-worker's backoff, and a delivery given up (the last attempt, or a
 * 4xx answer) is a WEBHOOK_FAILED event, which itself is never delivered.
 */
export class WebhookDelivery {
  constructor(private readonly opts: { orm: MikroORM; events: EventService; logger: Logger }) {}

  /** The EventService hook. */
  readonly hook: RecordHook = async (tx, event) => {
    if (!isDelivered(event.type)) return;
    const webhooks = (await tx.execute('select id, event_types from webhook where active order by id')) as {
      id: number;
      event_types: string[];
    }[];
    for (const w of webhooks)
      if (w.event_types.length === 0 || w.event_types.includes(event.type))
        await addJob(
          tx,
          TASKS.DELIVER_WEBHOOK,
          { event: event.id, webhook: w.id },
          { jobKey: `webhook:${w.id}:${event.id}`, maxAttempts: WEBHOOK_MAX_ATTEMPTS },
        );
  };

  tasks(): TaskList {
    return { [TASKS.DELIVER_WEBHOOK]: (payload, helpers) => this.runJob(payload, helpers) };
  }

  private async runJob(payload: unknown, helpers: JobHelpers): Promise<void> {
    const p = (payload ?? {}) as { event?: unknown; webhook?: unknown };
    const eventId = String(p.event ?? '');
    const webhookId = Number(p.webhook);
    if (!/^\d+$/.test(eventId) || !Number.isInteger(webhookId))
      throw new Error(`bad deliver_webhook payload ${JSON.stringify(payload)}`);
    const { attempts, max_attempts: maxAttempts } = helpers.job;
    const em = this.opts.orm.em.fork();
    const webhook = await em.findOne(Webhook, webhookId);
    const event = await em.findOne(Event, eventId);
    const log = { event: eventId, webhook: webhookId, attempt: attempts, of: maxAttempts };
    if (!webhook?.active || !event) {
      const why = !event ? 'the event is gone' : webhook ? 'the webhook is inactive' : 'the webhook was removed';
      this.opts.logger.info(log, `webhook delivery of event ${eventId} dropped: ${why}`);
      return;
    }
    const result = await postEvent(webhook, eventJson(event));
    const last = attempts >= maxAttempts;
    const giveUp = result.outcome === 'refused' || (result.outcome === 'retry' && last);
    const lastResult = `${result.message} (attempt ${attempts} of ${maxAttempts})`;
    await em.nativeUpdate(
      Webhook,
      { id: webhookId },
      { lastAttemptAt: new Date(), lastOk: result.outcome === 'accepted', lastResult },
    );
    if (result.outcome === 'accepted') {
      this.opts.logger.info(
        { ...log, status: result.status, ms: result.ms },
        `event ${eventId} delivered to ${webhook.url}`,
      );
      return;
    }
    const what = `delivery of event ${eventId} (${event.type}) to ${webhook.describe()}`;
    this.opts.logger.warn(
      { ...log, status: result.status, reason: result.message },
      `${what} failed (attempt ${attempts} of ${maxAttempts}): ${result.message}${giveUp ? '; giving up' : '; graphile-worker retries it'}`,
    );
    if (giveUp)
      await this.opts.events.record(
        this.opts.orm.em.fork(),
        EventType.WEBHOOK_FAILED,
        `${what} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${result.message}`,
        {
          event: eventId,
          eventType: event.type,
          webhook: webhookId,
          url: webhook.url,
          status: result.status,
          attempts,
          reason: result.message,
        },
      );
    // A refusal for good ends the job; anything else goes back to graphile-worker for its backoff.
    if (result.outcome === 'retry') throw new Error(result.message);
  }
}

/**
 * POSTs one event (or a test) to a webhook: the JSON with this attempt's time stamp, signed over the exact
 * body, never following redirects (the secret's signature goes only where the administrator said).
 */
export async function postEvent(
  webhook: Pick<Webhook, 'url' | 'secret'>,
  event: Omit<WebhookEventBody, 'timestamp'>,
): Promise<PostResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  const body = webhookBody({ ...event, timestamp });
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(webhook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': `debyard/${VERSION}`,
        [WEBHOOK_HEADERS.signature]: signBody(webhook.secret, body),
        [WEBHOOK_HEADERS.eventId]: event.id,
        [WEBHOOK_HEADERS.eventType]: event.type,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      },
      body,
    });
  } catch (err) {
    return { outcome: 'retry', status: null, message: fetchFailure(err as Error), ms: Date.now() - started };
  }
  const answer = await res
    .text()
    .then((t) => t.trim().replace(/\s+/g, ' ').slice(0, ANSWER_CHARS))
    .catch(() => '');
  const ms = Date.now() - started;
  const said = answer ? `: ${answer}` : '';
  const s = res.status;
  if (s >= 200 && s < 300) return { outcome: 'accepted', status: s, message: `HTTP ${s} in ${ms} ms`, ms };
  if (s >= 500 || s === 408 || s === 429) return { outcome: 'retry', status: s, message: `HTTP ${s}${said}`, ms };
  if (s >= 300 && s < 400)
    return {
      outcome: 'refused',
      status: s,
      message: `HTTP ${s}, a redirect to ${res.headers.get('location') ?? '(nowhere)'}: redirects are not followed, configure the final URL`,
      ms,
    };
  return {
    outcome: 'refused',
    status: s,
    message: `HTTP ${s}${said}: the target refuses the delivery (check its URL and secret); not retried`,
    ms,
  };
}

function fetchFailure(err: Error): string {
  if (err.name === 'TimeoutError') return `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (cause?.code === 'ENOTFOUND') return `the host name does not resolve (ENOTFOUND)`;
  return cause?.message ? `${cause.message}${cause.code ? ` (${cause.code})` : ''}` : err.message;
}
