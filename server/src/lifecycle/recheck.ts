import type { EngineComponent } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { LifecycleService } from './lifecycle.service.js';

/**
 * The engine part that brings failed-while-active objects back: every `intervalMs` it checks them
 * again (mini-buildd's auto-reactivate, which there needs a manual check or cron).
 */
export function recheckComponent(lifecycle: LifecycleService, intervalMs: number, logger: Logger): EngineComponent {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    name: 'config recheck',
    start: async () => {
      timer = setInterval(() => {
        running = lifecycle
          .recheckReactivating()
          .then((back) => back.length && logger.info({ back }, 'configuration objects active again'))
          .catch((err) => logger.error({ err }, 'rechecking configuration failed'));
      }, intervalMs);
      timer.unref();
    },
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
