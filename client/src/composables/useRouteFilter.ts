import { computed } from 'vue';
import { useRoute, useRouter, type LocationQuery } from 'vue-router';

type QueryValue = LocationQuery[string];

/** A non-empty text in the query string, or null. */
export const queryText = (value: QueryValue): string | null => (typeof value === 'string' && value ? value : null);

/** One of `allowed`, or null. */
export const queryOneOf = <T extends string>(value: QueryValue, allowed: readonly T[]): T | null =>
  allowed.includes(value as T) ? (value as T) : null;

/**
 * A list's filters kept in the query string of the route `name`: a filtered list can be shared and
 * survives a reload. `parse` reads them from the query; changing one pushes a new URL.
 */
export function useRouteFilter<Filter extends object>(name: string, parse: (query: LocationQuery) => Filter) {
  const route = useRoute();
  const router = useRouter();
  const filter = computed<Filter>(() => parse(route.query));
  const active = computed(() => Object.values(filter.value).some((v) => v));

  function apply(next: Partial<Filter>): void {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(next)) if (value) query[key] = value as string;
    void router.push({ name, query });
  }

  /** Sets one filter to `value` (trimmed; empty means any). */
  const set = (key: keyof Filter, value: string): void => apply({ ...filter.value, [key]: value.trim() || null });

  return { filter, active, apply, set, clear: () => apply({}) };
}
