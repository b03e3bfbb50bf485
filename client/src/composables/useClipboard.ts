import { getCurrentScope, onScopeDispose, ref } from 'vue';

export type CopyState = 'idle' | 'copied' | 'failed';

const RESET_AFTER_MS = 2000;

/**
 * Copies text for a copy button and says how it went for two seconds. Without the Clipboard API
 * (a console opened over plain http from another host is not a secure context) it falls back to
 * a hidden textarea and execCommand.
 */
export function useClipboard() {
  const state = ref<CopyState>('idle');
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function copy(text: string): Promise<void> {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      } else ok = copyWithTextarea(text);
    } catch {
      ok = copyWithTextarea(text);
    }
    state.value = ok ? 'copied' : 'failed';
    clearTimeout(timer);
    timer = setTimeout(() => (state.value = 'idle'), RESET_AFTER_MS);
  }

  if (getCurrentScope()) onScopeDispose(() => clearTimeout(timer));
  return { state, copy };
}

function copyWithTextarea(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}
