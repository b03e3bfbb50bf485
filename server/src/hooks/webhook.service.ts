import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { User } from '../auth/user.entity.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { REDACTED } from '../notify/smtp-url.js';
import { isDelivered } from './deliverable.js';
import { postEvent, type PostResult } from './webhook-delivery.js';
import { Webhook } from './webhook.entity.js';

const MAX_URL_LENGTH = 2000;
const SECRET = /^[\x21-\x7e]{16,256}$/;
const KNOWN_TYPES = new Set<string>(Object.values(EventType));

export interface WebhookInput {
  url: string;
  secret: string;
  eventTypes?: string[] | null;
  active?: boolean | null;
}

/** Webhooks are an administrator's: added, switched on and off, removed, tried; each change is an event. */
export class WebhookService {
  constructor(private readonly events: EventService) {}

  list(em: EntityManager): Promise<Webhook[]> {
    return em.find(Webhook, {}, { orderBy: { id: 'asc' } });
  }

  async add(em: EntityManager, actor: User, input: WebhookInput): Promise<Webhook> {
    const url = checkUrl(input.url);
    const secret = checkSecret(input.secret);
    const eventTypes = checkEventTypes(input.eventTypes ?? []);
    const exists = async () => {
      const other = await em.fork().findOne(Webhook, { url });
      return new DomainError(
        'ALREADY_EXISTS',
        `${other ? `webhook ${other.id}` : 'a webhook'} posts to ${url} already: remove it first, or give another URL`,
        { field: 'url' },
      );
    };
    if (await em.count(Webhook, { url })) throw await exists();
    try {
      return await em.transactional(async (tx) => {
        const webhook = tx.create(Webhook, {
          url,
          secret,
          eventTypes,
          active: input.active ?? true,
          createdBy: actor.username,
        });
        await tx.flush();
        await this.events.record(
          tx,
          EventType.WEBHOOK_ADDED,
          `${actor.username} added ${webhook.describe()} for ${eventTypes.length ? eventTypes.join(', ') : 'every event'}${webhook.active ? '' : ' (inactive)'}`,
          { webhook: webhook.id, url, eventTypes, active: webhook.active, by: actor.username },
        );
        return webhook;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw await exists();
      throw err;
    }
  }

  async remove(em: EntityManager, actor: User, id: number): Promise<Webhook> {
    return em.transactional(async (tx) => {
      const webhook = await this.get(tx, id);
      tx.remove(webhook);
      await tx.flush();
      await this.events.record(tx, EventType.WEBHOOK_REMOVED, `${actor.username} removed ${webhook.describe()}`, {
        webhook: id,
        url: webhook.url,
        by: actor.username,
      });
      return webhook;
    });
  }

  /** Switches a webhook on or off; deliveries queued while it is off are dropped, not kept. */
  async setActive(em: EntityManager, actor: User, id: number, active: boolean): Promise<Webhook> {
    return em.transactional(async (tx) => {
      const webhook = await this.get(tx, id);
      if (webhook.active === active) return webhook;
      webhook.active = active;
      await tx.flush();
      await this.events.record(
        tx,
        EventType.WEBHOOK_CHANGED,
        `${actor.username} ${active ? 'activated' : 'deactivated'} ${webhook.describe()}`,
        { webhook: id, url: webhook.url, active, by: actor.username },
      );
      return webhook;
    });
  }

  /** POSTs a signed PING to the webhook now (active or not) and says how it went; records nothing. */
  async test(em: EntityManager, id: number): Promise<PostResult> {
    const webhook = await this.get(em, id);
    const daemon = await em.findOne(DaemonConfig, 1);
    return postEvent(webhook, {
      id: '0',
      type: 'PING',
      createdAt: new Date().toISOString(),
      summary: `a test delivery from debyard ${daemon?.identity ?? ''}`.trim(),
      payload: { webhook: id },
    });
  }

  private async get(em: EntityManager, id: number): Promise<Webhook> {
    const webhook = Number.isInteger(id) ? await em.findOne(Webhook, id) : null;
    if (!webhook) throw new DomainError('NOT_FOUND', `there is no webhook ${id} (debyard webhook ls lists them)`);
    return webhook;
  }
}

function bad(field: string, message: string): DomainError {
  return new DomainError('BAD_USER_INPUT', `${field}: ${message}`, { field });
}

/** http(s) only, no credentials (fetch refuses them, and the signature is the authentication), no fragment. */
export function checkUrl(value: string): string {
  const s = value.trim();
  const hint = 'expected http(s)://host[:port]/path, e.g. https://ci.example.org/hooks/debyard';
  if (!s) throw bad('url', `must not be empty; ${hint}`);
  if (s.length > MAX_URL_LENGTH) throw bad('url', `is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw bad('url', `"${s}" is not a URL; ${hint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad('url', `the scheme must be http or https, not "${url.protocol.replace(/:$/, '')}"; ${hint}`);
  if (url.username || url.password)
    throw bad('url', 'must not hold a user or password: the HMAC signature tells the receiver the delivery is ours');
  if (url.hash) throw bad('url', 'must not have a #fragment (it is never sent)');
  return url.href;
}

export function checkSecret(value: string): string {
  if (value === REDACTED) throw bad('secret', `"${REDACTED}" is how the secret is shown; give the secret itself`);
  if (!SECRET.test(value))
    throw bad(
      'secret',
      `must be 16 to 256 printable ASCII characters without spaces (this one has ${value.length} characters); e.g. the output of: openssl rand -hex 32`,
    );
  return value;
}

/** Known, deliverable types, each once; empty means every type. */
export function checkEventTypes(values: string[]): EventType[] {
  const out: EventType[] = [];
  for (const raw of values) {
    const t = raw.trim().toUpperCase();
    if (!KNOWN_TYPES.has(t))
      throw bad('eventTypes', `unknown event type "${raw}"; known types: ${[...KNOWN_TYPES].join(', ')}`);
    if (!isDelivered(t as EventType))
      throw bad('eventTypes', `${t} is never delivered: it reports a failed delivery, and delivering it could loop`);
    if (!out.includes(t as EventType)) out.push(t as EventType);
  }
  return out;
}
