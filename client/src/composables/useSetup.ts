import { computed, reactive, ref, shallowRef, watch } from 'vue';
import { client } from '../api/client';
import { SetupMutation } from '../api/configDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { ChrootBackend, DaemonEvent, SetupEntry, SetupInput, SetupReport } from '../api/types';
import { useLiveEvents } from './useLiveEvents';

/** The codenames setup knows per origin (the daemon's setup data); others can be typed in. */
export const SETUP_ORIGINS: Record<string, string[]> = {
  Debian: ['sid', 'trixie', 'bookworm', 'bullseye', 'buster'],
  Ubuntu: ['noble', 'jammy', 'focal'],
};
export const SETUP_LAYOUTS = ['Default', 'Default (no rollbacks)', 'Debian Developer'];

export interface SetupRepositoryDraft {
  identity: string;
  layout: string;
}

/** The wizard's choices as the inputs hold them. */
export interface SetupDraft {
  origin: string;
  codenames: string[];
  otherCodenames: string;
  architectures: string;
  mirror: string;
  repositories: SetupRepositoryDraft[];
  /** Also one build chroot per codename and architecture. */
  chroots: boolean;
  chrootBackend: ChrootBackend;
}

const words = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

export function toSetupInput(draft: SetupDraft): SetupInput {
  const codenames = [...new Set([...draft.codenames, ...words(draft.otherCodenames)])];
  const architectures = words(draft.architectures);
  return {
    origin: draft.origin,
    codenames,
    architectures: architectures.length ? architectures : null,
    mirror: draft.mirror.trim() || null,
    repositories: draft.repositories
      .filter((r) => r.identity.trim())
      .map((r) => ({ identity: r.identity.trim(), layout: r.layout })),
    chroots: draft.chroots,
    chrootBackend: draft.chroots ? draft.chrootBackend : null,
  };
}

/** A configuration event of one object, as the apply progress shows it. */
export interface ProgressStep {
  type: string;
  summary: string;
}

const progressKey = (kind: unknown, key: unknown): string => `${String(kind)} ${String(key)}`;

/**
 * The setup wizard: a dry run shown as a diff, then apply with each object's progress as the
 * daemon's events report it while the mutation runs.
 */
export function useSetup() {
  const draft = reactive<SetupDraft>({
    origin: 'Debian',
    codenames: ['bookworm'],
    otherCodenames: '',
    architectures: 'amd64',
    mirror: '',
    repositories: [{ identity: 'test', layout: 'Default' }],
    chroots: false,
    chrootBackend: 'SCHROOT',
  });
  const preview = shallowRef<SetupReport | null>(null);
  const result = shallowRef<SetupReport | null>(null);
  /** The input the preview was made for: apply carries out what the reader saw. */
  const previewedInput = ref<string | null>(null);
  const previewing = ref(false);
  const applying = ref(false);
  const error = ref<ApiError | null>(null);

  /** Events seen while applying, oldest first, and the latest step per object. */
  const events = shallowRef<DaemonEvent[]>([]);
  const steps = reactive<Record<string, ProgressStep>>({});
  const live = useLiveEvents((event) => {
    if (!applying.value || !(event.type.startsWith('CONFIG_') || event.type === 'SETUP_APPLIED')) return;
    events.value = [...events.value, event];
    const { kind, key } = event.payload;
    if (kind && key) steps[progressKey(kind, key)] = { type: event.type, summary: event.summary };
  });

  const input = computed(() => toSetupInput(draft));
  const stale = computed(() => previewedInput.value !== JSON.stringify(input.value));
  const busy = computed(() => previewing.value || applying.value);

  // A changed origin offers other codenames: drop the ones it does not know.
  watch(
    () => draft.origin,
    (origin) => {
      draft.codenames = draft.codenames.filter((c) => SETUP_ORIGINS[origin]?.includes(c));
    },
  );

  async function run(apply: boolean): Promise<SetupReport | null> {
    error.value = null;
    const sent = input.value;
    const outcome = await client.mutation(SetupMutation, { input: sent, apply }).toPromise();
    if (outcome.error || !outcome.data) {
      error.value = outcome.error
        ? toApiError(outcome.error)
        : { message: 'The daemon sent no answer.', code: 'UNKNOWN' };
      return null;
    }
    return outcome.data.setup;
  }

  async function runPreview(): Promise<void> {
    previewing.value = true;
    // The last report (or what applying did) must not pass for the answer to these choices.
    preview.value = null;
    result.value = null;
    try {
      const sent = JSON.stringify(input.value);
      const report = await run(false);
      preview.value = report;
      previewedInput.value = report ? sent : null;
    } finally {
      previewing.value = false;
    }
  }

  async function runApply(): Promise<void> {
    applying.value = true;
    result.value = null;
    events.value = [];
    for (const k of Object.keys(steps)) delete steps[k];
    try {
      // Listen first: the events of this apply arrive while the mutation runs.
      await live.start();
      result.value = await run(true);
      // The daemon records SETUP_APPLIED last; a moment for it to reach the log.
      if (result.value) await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      applying.value = false;
      live.stop();
      previewedInput.value = null;
    }
  }

  return {
    draft,
    input,
    preview,
    result,
    stale,
    busy,
    previewing,
    applying,
    error,
    events,
    liveError: live.error,
    stepOf: (entry: Pick<SetupEntry, 'kind' | 'key'>): ProgressStep | undefined =>
      steps[progressKey(entry.kind, entry.key)],
    addRepository: () => draft.repositories.push({ identity: '', layout: 'Default' }),
    removeRepository: (index: number) => draft.repositories.splice(index, 1),
    runPreview,
    runApply,
  };
}
