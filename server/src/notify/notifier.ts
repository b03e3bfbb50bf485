import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { JobHelpers, TaskList } from 'graphile-worker';
import nodemailer from 'nodemailer';
import { Role, roleIncludes } from '../auth/role.js';
import { Build } from '../build/build.entity.js';
import { stripClearsign } from '../build/dsc.js';
import { parseSingleParagraph } from '../debian/deb822.js';
import { Event, EventType } from '../events/event.entity.js';
import type { EventService, RecordHook } from '../events/event.service.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { addJob, TASKS } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { Repository } from '../repository/repository.entity.js';
import { Upload } from '../upload/upload.entity.js';
import {
  composeMail,
  MAILED_EVENTS,
  recipients,
  STAFF_MAILED_EVENTS,
  subscriptionMatches,
  type MailContent,
} from './mail.js';
import { redactSmtpUrl } from './smtp-url.js';
import { PackageSubscription } from './subscription.entity.js';

/** graphile-worker retries with exp(min(attempt, 10)) s: 25 attempts cover about 5 hours. */
export const MAIL_MAX_ATTEMPTS = 25;
/** Connect, greeting and idle socket limits: a hanging smarthost costs one attempt, not the mail runner. */
const SMTP_TIMEOUT_MS = 10_000;

export interface OutgoingMail extends MailContent {
  from: string;
  to: string[];
}

export interface NotifierOptions {
  orm: MikroORM;
  events: EventService;
  logger: Logger;
  /** The daemon's public HTTP URL, for the links in the mail. */
  baseUrl(): string;
  /** Sends one message (nodemailer over SMTP unless replaced). */
  send?(smtpUrl: string, mail: OutgoingMail): Promise<void>;
}

/**
 * E-mail notifications: a hook on every recorded event queues a `notify_event` job in the event's own
 * transaction (so a crash never loses a mail and a rolled-back event sends none) when mail is on and the
 * type is one people want (MAILED_EVENTS). The job, on a runner of its own with one slot, works out the
 * recipients and sends one message; graphile-worker retries it with backoff, and the last failure is
 * recorded as MAIL_FAILED.
 */
export class Notifier {
  constructor(private readonly opts: NotifierOptions) {}

  /** The EventService hook. */
  readonly hook: RecordHook = async (tx, event) => {
    if (!MAILED_EVENTS.has(event.type)) return;
    const [daemon] = (await tx.execute('select smtp_url from daemon_config where id = 1')) as { smtp_url: string }[];
    if (!daemon?.smtp_url) return;
    await addJob(
      tx,
      TASKS.NOTIFY_EVENT,
      { event: event.id },
      { jobKey: `notify:${event.id}`, maxAttempts: MAIL_MAX_ATTEMPTS },
    );
  };

  tasks(): TaskList {
    return { [TASKS.NOTIFY_EVENT]: (payload, helpers) => this.runJob(payload, helpers) };
  }

  /** Composes the mail of one event; null when there is nobody to send it to or mail is off. */
  async compose(em: EntityManager, eventId: string): Promise<{ smtpUrl: string; mail: OutgoingMail } | null> {
    const event = await em.findOne(Event, eventId);
    const daemon = await em.findOne(DaemonConfig, 1);
    if (!event || !daemon?.smtpUrl) return null;
    const p = event.payload;
    const uploadId = typeof p.upload === 'number' ? p.upload : null;
    const upload = uploadId ? await em.findOne(Upload, uploadId) : null;
    const repository =
      typeof p.repository === 'string' ? await em.findOne(Repository, { identity: p.repository }) : null;
    const subscriptions = await em.find(
      PackageSubscription,
      { user: { email: { $ne: null } } },
      { populate: ['user'], orderBy: { id: 'asc' } },
    );
    const staffOnly = STAFF_MAILED_EVENTS.has(event.type);
    const to = recipients({
      subscribers: subscriptions
        .filter((s) => subscriptionMatches({ source: s.source, distribution: s.distribution }, event))
        .filter((s) => !staffOnly || roleIncludes(s.user.role, Role.STAFF))
        .map((s) => s.user.email!),
      repositoryAddresses: staffOnly ? [] : (repository?.notify ?? []),
      daemonAddresses: daemon.notifyAddresses,
      changedBy: staffOnly ? null : (upload?.changedBy ?? null),
      maintainer: upload && repository?.notifyMaintainer ? await maintainerOf(upload) : null,
      notifyChangedBy: repository?.notifyChangedBy ?? false,
      notifyMaintainer: repository?.notifyMaintainer ?? false,
      allowEmailsTo: repository?.allowEmailsTo ?? '',
    });
    if (!to.length) return null;
    const builds = uploadId ? await em.find(Build, { upload: uploadId }, { orderBy: { id: 'asc' } }) : [];
    const content = composeMail({
      identity: daemon.identity,
      baseUrl: this.opts.baseUrl().replace(/\/$/, ''),
      event,
      builds: builds.map((b) => ({ id: b.id, architecture: b.architecture, result: b.result })),
    });
    return { smtpUrl: daemon.smtpUrl, mail: { ...content, from: daemon.sender, to } };
  }

  private async runJob(payload: unknown, helpers: JobHelpers): Promise<void> {
    const eventId = String((payload as { event?: unknown } | null)?.event ?? '');
    if (!/^\d+$/.test(eventId)) throw new Error(`bad notify_event payload ${JSON.stringify(payload)}`);
    const { attempts, max_attempts: maxAttempts } = helpers.job;
    const em = this.opts.orm.em.fork();
    const composed = await this.compose(em, eventId);
    if (!composed) return;
    const { smtpUrl, mail } = composed;
    const log = { event: eventId, to: mail.to, smtp: redactSmtpUrl(smtpUrl), attempt: attempts, of: maxAttempts };
    try {
      await (this.opts.send ?? sendSmtp)(smtpUrl, mail);
      this.opts.logger.info(log, `notification mail sent: ${mail.subject}`);
    } catch (err) {
      const reason = redactSmtpUrl((err as Error).message);
      const last = attempts >= maxAttempts;
      this.opts.logger.warn(
        { ...log, reason },
        `notification mail for event ${eventId} failed (attempt ${attempts} of ${maxAttempts}): ${reason}${last ? '; giving up' : '; graphile-worker retries it'}`,
      );
      if (last)
        await this.opts.events.record(
          this.opts.orm.em.fork(),
          EventType.MAIL_FAILED,
          `mail about event ${eventId} to ${mail.to.join(', ')} failed after ${attempts} attempts: ${reason}`,
          { event: eventId, subject: mail.subject, to: mail.to, attempts, reason },
        );
      throw err;
    }
  }
}

/** nodemailer over the configured smarthost; STARTTLS whenever an smtp:// server offers it. */
async function sendSmtp(smtpUrl: string, mail: OutgoingMail): Promise<void> {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      attachments: [{ ...mail.attachment, contentType: 'application/json' }],
    });
  } finally {
    transport.close();
  }
}

/** The Maintainer of the upload's .changes (as received, in spool); null when it cannot be read. */
async function maintainerOf(upload: Upload): Promise<string | null> {
  try {
    const text = await fs.readFile(path.join(upload.spoolDir, upload.changesName), 'utf8');
    return parseSingleParagraph(stripClearsign(text)).get('Maintainer')?.trim() || null;
  } catch {
    return null;
  }
}
