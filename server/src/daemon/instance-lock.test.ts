import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { acquireInstanceLock, InstanceLockError, LOCK_FILE_NAME } from './instance-lock.js';

const moduleUrl = new URL('./instance-lock.js', import.meta.url).href;

/** A separate daemon-like process that holds the lock until it is killed. */
async function startHolder(dataDir: string): Promise<{ holder: ResultPromise }> {
  const script = `
    import { acquireInstanceLock } from ${JSON.stringify(moduleUrl)};
    await acquireInstanceLock(process.argv[1]);
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1 << 30);
  `;
  const child = execa('node', ['--input-type=module', '-e', script, dataDir], { reject: false, buffer: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
  });
  return { holder: child }; // wrapped: an async function would await the thenable child
}

function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-lock-'));
}

describe('acquireInstanceLock', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('refuses a second process on the same data directory and names the holder', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const { holder } = await startHolder(dataDir);
    try {
      await assert.rejects(acquireInstanceLock(dataDir), (err: unknown) => {
        assert.ok(err instanceof InstanceLockError);
        assert.equal(err.code, 'INSTANCE_ALREADY_RUNNING');
        assert.equal(err.pid, holder.pid);
        assert.equal(
          err.message,
          `another debyard (pid ${holder.pid}) is already running with data directory ${dataDir}: ` +
            'stop it first, or use --data-dir for a second instance',
        );
        return true;
      });
    } finally {
      holder.kill('SIGKILL');
      await holder;
    }
  });

  it('is free again once the holder was SIGKILLed', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const { holder } = await startHolder(dataDir);
    holder.kill('SIGKILL');
    await holder;
    // The crashed holder's pid is still in the file: it must not matter.
    assert.equal(fs.readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8').trim(), String(holder.pid));
    const lock = await acquireInstanceLock(dataDir);
    assert.equal(fs.readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8').trim(), String(process.pid));
    await lock.release();
  });

  it('ignores a recorded pid that now belongs to a live, unrelated process', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    fs.writeFileSync(path.join(dataDir, LOCK_FILE_NAME), '1\n'); // pid 1 is always alive
    const lock = await acquireInstanceLock(dataDir);
    await lock.release();
  });

  it('refuses a second acquisition within the same process and frees on release', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const lock = await acquireInstanceLock(dataDir);
    await assert.rejects(acquireInstanceLock(dataDir), { code: 'INSTANCE_ALREADY_RUNNING', pid: process.pid });
    await lock.release();
    await lock.release(); // idempotent
    assert.equal(fs.readFileSync(path.join(dataDir, LOCK_FILE_NAME), 'utf8'), '');
    const again = await acquireInstanceLock(dataDir);
    await again.release();
  });

  it('does not pass the lock on to child processes', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const lock = await acquireInstanceLock(dataDir);
    // A long-lived child (think postmaster) must not keep the data directory locked after we exit.
    const child = execa('sleep', ['30'], { reject: false });
    await lock.release();
    const again = await acquireInstanceLock(dataDir);
    await again.release();
    child.kill('SIGKILL');
    await child;
  });

  it('says what is wrong when the data directory is missing', async () => {
    const dataDir = path.join(tempDataDir(), 'missing');
    dirs.push(path.dirname(dataDir));
    await assert.rejects(acquireInstanceLock(dataDir), (err: unknown) => {
      assert.ok(err instanceof InstanceLockError);
      assert.equal(err.code, 'INSTANCE_LOCK_FAILED');
      assert.match(err.message, /cannot open the instance lock .*missing\/debyard\.lock: ENOENT/);
      return true;
    });
  });
});
