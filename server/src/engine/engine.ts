import type { MikroORM } from '@mikro-orm/postgresql';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import type { Logger } from '../log.js';

/** A part of the engine (FTP incoming now; the packager, builders and schedules later). */
export interface EngineComponent {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The engine is everything that takes in and processes work. It can be stopped and started while HTTP
 * keeps serving, as in mini-buildd. Transitions are serialised; starting a running engine is a no-op.
 */
export class Engine {
  private running = false;
  private transition: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly components: EngineComponent[],
    private readonly orm: MikroORM,
    private readonly events: EventService,
    private readonly logger: Logger,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(by: string | null): Promise<void> {
    return this.serialise(async () => {
      if (this.running) return;
      const started: EngineComponent[] = [];
      try {
        for (const c of this.components) {
          await c.start();
          started.push(c);
        }
      } catch (err) {
        for (const c of started.reverse()) await c.stop().catch(() => undefined);
        throw err;
      }
      this.running = true;
      this.logger.info('engine started');
      await this.events.record(this.orm.em.fork(), EventType.ENGINE_STARTED, 'engine started', { by });
    });
  }

  stop(by: string | null): Promise<void> {
    return this.serialise(async () => {
      if (!this.running) return;
      for (const c of [...this.components].reverse()) {
        await c.stop().catch((err) => this.logger.error({ err, component: c.name }, 'stopping failed'));
      }
      this.running = false;
      this.logger.info('engine stopped');
      await this.events.record(this.orm.em.fork(), EventType.ENGINE_STOPPED, 'engine stopped', { by });
    });
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step, step);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
