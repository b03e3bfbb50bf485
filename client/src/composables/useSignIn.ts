import { ref } from 'vue';
import type { ApiError } from '../api/errors';
import { useSession } from './useSession';

/** State of the sign-in form: submit, loading, and the error to show. */
export function useSignIn() {
  const session = useSession();
  const loading = ref(false);
  const error = ref<ApiError | null>(null);

  async function submit(username: string, password: string): Promise<boolean> {
    if (!username || !password) {
      error.value = { message: 'Enter your user name and password.', code: 'BAD_USER_INPUT' };
      return false;
    }
    loading.value = true;
    error.value = null;
    try {
      error.value = await session.signIn(username, password);
      return error.value === null;
    } finally {
      loading.value = false;
    }
  }

  return { submit, loading, error };
}
