import 'reflect-metadata';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tailLog, utf8Boundary, type LogChunk } from './log-tail.js';

async function collect(gen: AsyncGenerator<LogChunk>): Promise<LogChunk[]> {
  const out: LogChunk[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

describe('tailLog', () => {
  it('replays from an offset, follows appends and ends once the writer is done', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tail-'));
    const file = path.join(dir, 'build.log');
    await fs.writeFile(file, 'one\ntwo\n');
    let finished = false;
    const chunks: LogChunk[] = [];
    const reading = (async () => {
      for await (const c of tailLog(file, 4, { finished: async () => finished, intervalMs: 10 })) chunks.push(c);
    })();
    await new Promise((r) => setTimeout(r, 50));
    await fs.appendFile(file, 'three\n');
    await new Promise((r) => setTimeout(r, 50));
    await fs.appendFile(file, 'four\n');
    finished = true;
    await reading;
    assert.equal(chunks.map((c) => c.text).join(''), 'two\nthree\nfour\n');
    assert.equal(chunks[0]!.offset, 4);
    for (let i = 1; i < chunks.length; i++)
      assert.equal(chunks[i]!.offset, chunks[i - 1]!.offset + Buffer.byteLength(chunks[i - 1]!.text));
    assert.deepEqual(chunks.at(-1), { offset: 19, text: '', done: true });
    await fs.rm(dir, { recursive: true });
  });

  it('treats a missing file as empty and keeps multi-byte characters whole across chunks', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tail-'));
    const file = path.join(dir, 'build.log');
    assert.deepEqual(await collect(tailLog(file, 0, { finished: async () => true })), [
      { offset: 0, text: '', done: true },
    ]);
    await fs.writeFile(file, 'ä€😀x'.repeat(10));
    const chunks = await collect(tailLog(file, 0, { finished: async () => true, maxChunk: 5 }));
    assert.equal(chunks.map((c) => c.text).join(''), 'ä€😀x'.repeat(10));
    assert.ok(chunks.every((c) => !c.text.includes('\ufffd')));
    await fs.rm(dir, { recursive: true });
  });
});

describe('utf8Boundary', () => {
  it('holds back an incomplete character only when more bytes follow', () => {
    const euro = Buffer.from('a€');
    assert.equal(utf8Boundary(euro, true), 4);
    assert.equal(utf8Boundary(euro.subarray(0, 3), true), 1);
    assert.equal(utf8Boundary(Buffer.from('abc'), false), 3);
  });
});
