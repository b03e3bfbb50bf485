import { computed, ref, shallowRef } from 'vue';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import type { LogChunk } from '../api/types';
import { useResumableSubscription } from './useResumableSubscription';

export interface LogPiece {
  /** Byte offset of the piece in the log: a stable key for rendering. */
  offset: number;
  text: string;
}

export interface UseLogStreamOptions<Data, Variables extends AnyVariables> {
  query: TypedDocumentNode<Data, Variables>;
  /** Variables to (re)subscribe from byte `offset`. */
  variables: (offset: number) => Variables;
  chunk: (data: Data) => LogChunk;
  /** The log is complete (the build or the chroot job ended). */
  onDone?: () => void;
}

const encoder = new TextEncoder();
// Offsets are bytes of the file; chunks end on character boundaries, so this is exact.
const byteLength = (text: string): number => encoder.encode(text).length;

export type LogState = 'idle' | 'streaming' | 'done' | 'error';

/**
 * A log that replays from the start and then follows, over a resumable subscription: after a drop it
 * subscribes again from the byte offset it has, so nothing is shown twice. Pieces are kept apart (keyed
 * by offset) so the view only adds new text to the page instead of re-rendering megabytes.
 */
export function useLogStream<Data, Variables extends AnyVariables>(options: UseLogStreamOptions<Data, Variables>) {
  const pieces = shallowRef<LogPiece[]>([]);
  /** Bytes received so far: where a resumed stream continues. */
  const bytes = ref(0);
  const done = ref(false);

  const stream = useResumableSubscription({
    query: options.query,
    variables: (cursor) => options.variables(cursor === null ? 0 : Number(cursor)),
    item: options.chunk,
    cursor: (chunk) => String(chunk.offset + byteLength(chunk.text)),
    onItem: receive,
  });

  function receive(chunk: LogChunk): void {
    // The daemon replays from exactly the offset asked for; a chunk before it means the log was
    // written afresh (a retry of the build): show the new one from its start.
    if (chunk.offset < bytes.value) {
      pieces.value = [];
      bytes.value = 0;
    }
    if (chunk.text) {
      // A new array (not a push): components given it as a prop see the change.
      pieces.value = [...pieces.value, { offset: chunk.offset, text: chunk.text }];
      bytes.value = chunk.offset + byteLength(chunk.text);
    }
    if (chunk.done && !done.value) {
      done.value = true;
      stream.stop();
      options.onDone?.();
    }
  }

  /** (Re)starts from the beginning of the log, forgetting what was shown. */
  function start(): void {
    pieces.value = [];
    bytes.value = 0;
    done.value = false;
    stream.start(null);
  }

  /**
   * Subscribes again after the bytes already shown (a log said done, but its writer starts another
   * run: a chroot's next prepare). A log written afresh arrives from offset 0 and replaces the view.
   */
  function resume(): void {
    done.value = false;
    stream.start(String(bytes.value));
  }

  function stop(): void {
    stream.stop();
  }

  const state = computed<LogState>(() => {
    if (done.value) return 'done';
    if (stream.error.value && !stream.active.value) return 'error';
    return stream.active.value ? 'streaming' : 'idle';
  });

  return { pieces, bytes, done, error: stream.error, active: stream.active, state, start, resume, stop };
}
