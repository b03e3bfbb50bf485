import { computed, reactive, ref } from 'vue';
import type { ConfigField } from '../api/types';

/** A field's value as its input holds it: text for most, a flag, or a list of references. */
export type Draft = string | boolean | string[];

/** The value's form for the input of its field type. */
export function toDraft(field: Pick<ConfigField, 'type'>, value: unknown): Draft {
  switch (field.type) {
    case 'BOOLEAN':
      return value === true;
    case 'REFERENCE_LIST':
      return Array.isArray(value) ? value.map(String) : [];
    case 'STRING_LIST':
      return Array.isArray(value) ? value.join(' ') : '';
    case 'JSON':
      return value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
    default:
      return value === null || value === undefined ? '' : String(value);
  }
}

/**
 * The input's value as the API takes it; throws with a message for text that cannot be what the
 * field wants (JSON that does not parse). Anything else goes to the daemon as typed, so that its
 * validation, the one place that knows the rules, names the problem.
 */
export function fromDraft(field: Pick<ConfigField, 'type'>, draft: Draft): unknown {
  switch (field.type) {
    case 'BOOLEAN':
      return draft === true;
    case 'REFERENCE_LIST':
      return (draft as string[]).map((s) => s.trim()).filter(Boolean);
    case 'STRING_LIST':
      return String(draft)
        .split(/[\s,]+/)
        .filter(Boolean);
    case 'INT': {
      const text = String(draft).trim();
      return /^-?\d+$/.test(text) ? Number(text) : text;
    }
    case 'REFERENCE':
      return String(draft) === '' ? null : String(draft);
    case 'JSON': {
      const text = String(draft).trim();
      if (!text) return null;
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new Error(`not valid JSON: ${(err as Error).message}`);
      }
    }
    default:
      return String(draft);
  }
}

const same = (a: Draft | undefined, b: Draft | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The drafts of an edit form: what each input holds, which fields differ from what was loaded, and
 * the message to show next to each field.
 */
export function useConfigForm() {
  const fields = ref<ConfigField[]>([]);
  const draft = reactive<Record<string, Draft>>({});
  const initial = ref<Record<string, Draft>>({});
  const fieldErrors = reactive<Record<string, string>>({});

  /** Starts over from `next` (the loaded object's fields, or a kind's empty fields for a new object). */
  function reset(next: ConfigField[]): void {
    fields.value = next;
    const values: Record<string, Draft> = {};
    for (const f of next) values[f.name] = toDraft(f, f.value);
    initial.value = values;
    for (const name of Object.keys(draft)) delete draft[name];
    Object.assign(draft, structuredClone(values));
    clearErrors();
  }

  function clearErrors(): void {
    for (const name of Object.keys(fieldErrors)) delete fieldErrors[name];
  }

  const changed = computed(() =>
    fields.value.filter((f) => !f.readOnly && !same(draft[f.name], initial.value[f.name])).map((f) => f.name),
  );

  /** The values of the changed fields, or null after putting a message next to each bad one. */
  function changedValues(): Record<string, unknown> | null {
    clearErrors();
    const values: Record<string, unknown> = {};
    for (const name of changed.value) {
      const field = fields.value.find((f) => f.name === name)!;
      try {
        values[name] = fromDraft(field, draft[name]!);
      } catch (err) {
        fieldErrors[name] = (err as Error).message;
      }
    }
    return Object.keys(fieldErrors).length ? null : values;
  }

  return { fields, draft, fieldErrors, changed, reset, clearErrors, changedValues };
}
