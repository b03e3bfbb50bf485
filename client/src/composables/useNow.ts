import { getCurrentScope, onScopeDispose, readonly, ref, type Ref } from 'vue';

const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/**
 * The current time in milliseconds, ticking once a second while any component uses it; one
 * shared timer for every uptime and "2 minutes ago" on the page.
 */
export function useNow(): Readonly<Ref<number>> {
  if (users++ === 0) {
    now.value = Date.now();
    timer = setInterval(() => (now.value = Date.now()), 1000);
  }
  if (getCurrentScope()) {
    onScopeDispose(() => {
      if (--users === 0) clearInterval(timer);
    });
  }
  return readonly(now);
}
