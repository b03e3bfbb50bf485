import type { MikroORM } from '@mikro-orm/postgresql';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../log.js';
import type { AuthService, Principal } from './auth.service.js';

/** setTimeout takes at most a signed 32-bit delay; a token expiring later is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Revocations that record no event (a console sign-out) are noticed by this sweep. */
const SWEEP_MS = 30_000;

interface Watched {
  principal: Principal;
  end(reason: string): void;
  timer?: NodeJS.Timeout;
}

/**
 * Ends long-lived connections (graphql-ws subscriptions) whose token or session stops being valid while they
 * are open: at once when an audit event says a token or user changed, at the token's expiry, and by a sweep.
 */
export class PrincipalWatch {
  private readonly watched = new Set<Watched>();
  private unsubscribe: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly auth: AuthService,
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly sweepMs = SWEEP_MS,
  ) {}

  start(bus: EventBus): void {
    // Every USER_… and TOKEN_… event (revoked, removed, changed, and whatever account states come later)
    // may end somebody's access; they are rare, so each one re-checks every watched connection.
    this.unsubscribe = bus.subscribe((event) => {
      if (/^(USER|TOKEN)_/.test(event.type)) this.checkAll();
    });
    this.sweepTimer = setInterval(() => this.checkAll(), this.sweepMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.sweepTimer);
    for (const w of this.watched) clearTimeout(w.timer);
    this.watched.clear();
  }

  /** Calls `end` once, with the reason, when `principal` stops being valid; the returned function stops watching. */
  watch(principal: Principal, end: (reason: string) => void): () => void {
    const w: Watched = { principal, end };
    this.watched.add(w);
    this.armExpiry(w);
    return () => this.forget(w);
  }

  private armExpiry(w: Watched): void {
    const expiresAt = w.principal.token.expiresAt;
    if (!expiresAt) return;
    const delay = Math.min(Math.max(expiresAt.getTime() - Date.now(), 0), MAX_TIMER_MS);
    w.timer = setTimeout(() => {
      if (expiresAt.getTime() > Date.now()) this.armExpiry(w);
      else this.enqueue([w]);
    }, delay);
    w.timer.unref();
  }

  private forget(w: Watched): void {
    clearTimeout(w.timer);
    this.watched.delete(w);
  }

  private checkAll(): void {
    if (this.watched.size > 0) this.enqueue([...this.watched]);
  }

  /** Checks run one batch after another, so a burst of events never piles up database queries. */
  private enqueue(batch: Watched[]): void {
    this.checking = this.checking.then(() => this.check(batch));
  }

  private async check(batch: Watched[]): Promise<void> {
    const em = this.orm.em.fork();
    for (const w of batch) {
      if (!this.watched.has(w)) continue;
      try {
        const reason = await this.auth.invalidReason(em, w.principal);
        if (reason === null) continue;
        this.forget(w);
        this.logger.info({ user: w.principal.user.username, reason }, 'ending a connection whose access ended');
        w.end(reason);
      } catch (err) {
        // The database being away must not end anyone's stream: the next event or sweep asks again.
        this.logger.warn({ err }, 'could not re-check a connection’s token');
      }
    }
  }
}
