import fs from 'node:fs/promises';
import { Field, Float, ObjectType } from 'type-graphql';

/** A piece of a growing log; `offset` is where `text` starts, in bytes. */
@ObjectType({ description: 'A piece of a log; the last one of a finished log has done: true' })
export class LogChunk {
  @Field(() => Float, { description: 'Byte offset of text in the log file' })
  offset!: number;

  @Field({ description: 'The bytes from offset on, as UTF-8 (a character split across chunks is kept whole)' })
  text!: string;

  @Field({ description: 'The log is complete: nothing will follow' })
  done!: boolean;
}

export interface TailOptions {
  /** Whether the writer has finished; asked when the file stops growing. */
  finished(): Promise<boolean>;
  /** How often the file is looked at while it grows (default 150 ms: a line shows within a second). */
  intervalMs?: number;
  /** Longest chunk (default 64 KiB). */
  maxChunk?: number;
}

/**
 * Replays a log file from `offset`, then follows it as it grows until `finished()` says so and every
 * byte was sent. A file that does not exist yet counts as empty. Chunks end on a UTF-8 character
 * boundary, so offsets stay exact byte positions. Ends early when the consumer stops iterating.
 */
export async function* tailLog(file: string, offset: number, opts: TailOptions): AsyncGenerator<LogChunk> {
  const interval = opts.intervalMs ?? 150;
  const max = opts.maxChunk ?? 64 * 1024;
  let position = Math.max(0, Math.floor(offset));
  for (;;) {
    const size = await fs.stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (size < position) position = 0; // the log was started afresh (a retry)
    if (size > position) {
      const buf = await readRange(file, position, Math.min(max, size - position));
      const cut = utf8Boundary(buf, size - position > buf.length);
      if (cut > 0) {
        yield { offset: position, text: buf.subarray(0, cut).toString('utf8'), done: false };
        position += cut;
        continue;
      }
    }
    if (size === position && (await opts.finished())) {
      // The writer may have appended between the stat and the question.
      const last = await fs.stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (last === position) {
        yield { offset: position, text: '', done: true };
        return;
      }
      continue;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

async function readRange(file: string, position: number, length: number): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * How many bytes of `buf` end on a character boundary. When more bytes follow, an incomplete
 * multi-byte sequence at the end is held back; at the current end of the file it is held back too,
 * unless it is all there is (then it is sent, as the writer may never complete it).
 */
export function utf8Boundary(buf: Buffer, moreFollows: boolean): number {
  let i = buf.length;
  let back = 0;
  while (i > 0 && back < 4 && (buf[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return buf.length;
  const lead = buf[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (need === back + 1) return buf.length;
  if (need === 1) return buf.length;
  const cut = i - 1;
  return cut === 0 && !moreFollows ? buf.length : cut;
}
