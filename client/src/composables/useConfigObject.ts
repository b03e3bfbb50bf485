import { getCurrentScope, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import { ConfigObjectQuery, ConfigSetMutation } from '../api/configDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { ConfigField, ConfigKind, ConfigObject, FieldChange } from '../api/types';
import { useConfigForm } from './useConfigForm';
import { useLiveEvents } from './useLiveEvents';

/** The daemon names the field in its message ("lintianMode: expected …"); next to the field that is noise. */
function withoutFieldPrefix(message: string, field: string): string {
  return message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}

/**
 * Saves the changed fields of a form with `configSet`. A refused value lands next to its field
 * (`extensions.field`); anything else is the form's error. Nothing is saved unless all is valid.
 */
function useConfigSave(form: ReturnType<typeof useConfigForm>) {
  const saving = ref(false);
  const formError = ref<ApiError | null>(null);
  /** What the last save changed; empty when there was nothing to change. */
  const saved = shallowRef<FieldChange[] | null>(null);

  async function save(kind: ConfigKind, key: string, create: boolean): Promise<ConfigObject | null> {
    formError.value = null;
    saved.value = null;
    const values = form.changedValues();
    if (!values) return null;
    if (!create && Object.keys(values).length === 0) {
      saved.value = [];
      return null;
    }
    saving.value = true;
    try {
      const result = await client.mutation(ConfigSetMutation, { kind, key, values, create }).toPromise();
      if (result.error || !result.data) {
        const error = result.error
          ? toApiError(result.error)
          : { message: 'The daemon sent no answer.', code: 'UNKNOWN' };
        if (error.field && form.fields.value.some((f) => f.name === error.field)) {
          form.fieldErrors[error.field] = withoutFieldPrefix(error.message, error.field);
        } else formError.value = error;
        return null;
      }
      saved.value = result.data.configSet.changes;
      return result.data.configSet.object;
    } finally {
      saving.value = false;
    }
  }

  return { saving, formError, saved, save };
}

/** One configuration object: loaded, kept fresh by configuration events, and editable. */
export function useConfigObject(kind: Ref<ConfigKind | null>, key: Ref<string>) {
  const object = shallowRef<ConfigObject | null>(null);
  const loading = ref(false);
  const error = ref<ApiError | null>(null);
  const form = useConfigForm();
  const saver = useConfigSave(form);
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  /** Shows `next`; the inputs follow it unless the reader has edits in progress. */
  function accept(next: ConfigObject, resetForm: boolean): void {
    object.value = next;
    if (resetForm || form.changed.value.length === 0) form.reset(next.fields);
  }

  async function load(resetForm = true): Promise<void> {
    if (!kind.value || !key.value) return;
    loading.value = true;
    try {
      const result = await client
        .query(ConfigObjectQuery, { kind: kind.value, key: key.value }, { requestPolicy: 'network-only' })
        .toPromise();
      if (result.error) error.value = toApiError(result.error);
      else if (result.data) {
        error.value = null;
        accept(result.data.configObject, resetForm);
      }
    } finally {
      loading.value = false;
    }
  }

  async function save(): Promise<void> {
    if (!kind.value) return;
    const updated = await saver.save(kind.value, key.value, false);
    if (updated) accept(updated, true);
  }

  const live = useLiveEvents((event) => {
    if (!event.type.startsWith('CONFIG_')) return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(false), 250);
  });
  void live.start();
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(reloadTimer));

  watch([kind, key], () => void load(), { immediate: true });

  return {
    object,
    loading,
    error,
    load,
    form,
    saving: saver.saving,
    formError: saver.formError,
    saved: saver.saved,
    save,
    /** Shows the object a lifecycle action returned. */
    accept: (next: ConfigObject) => accept(next, false),
  };
}

/** The form for a new object of a kind: its key and the fields to set. */
export function useConfigCreate() {
  const form = useConfigForm();
  const saver = useConfigSave(form);
  const key = ref('');
  const keyError = ref<string | null>(null);

  function reset(fields: ConfigField[]): void {
    key.value = '';
    keyError.value = null;
    saver.formError.value = null;
    form.reset(fields.filter((f) => !f.readOnly));
  }

  /** Creates it; resolves to the new object, or null with the errors shown. */
  async function create(kind: ConfigKind): Promise<ConfigObject | null> {
    keyError.value = key.value.trim() ? null : 'Give the new object a key.';
    if (keyError.value) return null;
    return saver.save(kind, key.value.trim(), true);
  }

  return { form, key, keyError, saving: saver.saving, formError: saver.formError, reset, create };
}
