import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import type { PortPlan, PortRequest, Upload } from '../api/types';
import { PortMutation, PortPlanQuery, PortTargetsQuery } from '../api/uploadDocuments';
import { NO_ANSWER } from './useLatestQuery';

/** The options a port gets unless others are given (the daemon's default too). */
export const DEFAULT_PORT_OPTIONS = ['lintian-mode=ignore'];

/**
 * A port in three steps: the distributions it may go to; `review` asks the daemon what it would upload
 * (the new version per target, refused with the daemon's reason); `confirm` makes exactly that plan
 * (a rebuild keeps the plan's time stamp) and gives the new uploads.
 */
export function usePort() {
  const targets = shallowRef<string[]>([]);
  const targetsError = ref<ApiError | null>(null);
  const plan = shallowRef<PortPlan | null>(null);
  const made = shallowRef<Upload[]>([]);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function loadTargets(): Promise<void> {
    const result = await client.query(PortTargetsQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    targetsError.value = result.error ? toApiError(result.error) : null;
    targets.value = result.data?.portTargets ?? [];
  }

  async function review(request: PortRequest): Promise<void> {
    busy.value = true;
    error.value = null;
    plan.value = null;
    try {
      const result = await client.query(PortPlanQuery, request, { requestPolicy: 'network-only' }).toPromise();
      if (result.error || !result.data) error.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else plan.value = result.data.portPlan;
    } finally {
      busy.value = false;
    }
  }

  async function confirm(): Promise<void> {
    const p = plan.value;
    if (!p) return;
    busy.value = true;
    error.value = null;
    try {
      const result = await client
        .mutation(PortMutation, {
          source: p.source,
          from: p.from,
          to: p.targets.map((t) => t.distribution),
          version: p.fromVersion,
          options: p.options,
          rebuildStamp: p.rebuildStamp,
        })
        .toPromise();
      if (result.error || !result.data) error.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else made.value = result.data.port;
    } finally {
      busy.value = false;
    }
  }

  /** Back to choosing: the plan (and any error) is dropped. */
  function edit(): void {
    plan.value = null;
    error.value = null;
  }

  return { targets, targetsError, plan, made, busy, error, loadTargets, review, confirm, edit };
}
