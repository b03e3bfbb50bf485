import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FieldError } from '../lifecycle/config-kind.js';
import { checkHooksDir, HookError, listHooks, resolveHook, runHook } from './hook-runner.js';

/** Whether `pid` ends (or is a zombie left for init to reap) within a second. */
async function gone(pid: number): Promise<boolean> {
  assert.ok(pid > 0);
  for (let i = 0; i < 20; i++) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null || /^\d+ \(.*\) Z /.test(stat)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe('event hooks: the runner', () => {
  let dir: string;
  let out: string;
  const write = async (name: string, script: string, mode = 0o755) => {
    await fs.writeFile(path.join(dir, name), `#!/bin/sh\n${script}\n`);
    await fs.chmod(path.join(dir, name), mode);
  };
  const run = async (name: string, input = '{}', timeoutMs = 5000) =>
    runHook({
      file: await resolveHook(dir, name),
      input,
      env: { DEBYARD_EVENT_TYPE: 'INSTALLED' },
      timeoutMs,
      cwd: dir,
    });

  before(async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-hooks-'));
    dir = path.join(parent, 'hooks.d');
    out = path.join(parent, 'out');
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.mkdir(out);
    await write('10-record', `cat > ${out}/stdin; env > ${out}/env`);
    await write('20-fail', 'echo "cannot reach the tracker" >&2; exit 3');
    await write('30-hang', `sleep 60 & echo $! > ${out}/child; trap '' TERM; sleep 60; wait`);
    await write('40-quiet', 'exit 0');
    await write('README', 'not a hook', 0o644);
    for (const name of ['_off', '.hidden', 'old~', 'x.dpkg-old']) await write(name, 'exit 0');
    await write('50-shared', 'exit 0', 0o775);
    await fs.chmod(path.join(dir, '50-shared'), 0o775);
    await fs.symlink('/bin/true', path.join(dir, '60-escape'));
    await fs.symlink('40-quiet', path.join(dir, '70-alias'));
    await fs.mkdir(path.join(dir, '80-directory'));
  });
  after(async () => fs.rm(path.dirname(dir), { recursive: true, force: true }));

  it('lists executables in name order: mini-buildd’s names, links only inside, nothing writable by others', async () => {
    const { runnable, refused } = await listHooks(dir);
    assert.deepEqual(runnable, ['10-record', '20-fail', '30-hang', '40-quiet', '70-alias']);
    assert.deepEqual(
      refused.map((r) => r.name),
      ['50-shared', '60-escape'],
    );
    assert.match(refused[0]!.reason, /writable by group or others \(mode 775\); chmod go-w/);
    assert.match(refused[1]!.reason, /it is a link to \/(usr\/)?bin\/true, outside /);
    await assert.rejects(resolveHook(dir, '../out'), /hook "\.\.\/out" refused/);
    await assert.rejects(resolveHook(dir, '80-directory'), /not a regular file/);
  });

  it('gives the event on stdin with DEBYARD_* variables and none of the daemon’s environment', async () => {
    process.env.DEBYARD_TEST_SECRET = 'postgres://debyard:secret@db/debyard';
    try {
      const event = JSON.stringify({ id: '7', type: 'INSTALLED', payload: { source: 'hello' } });
      const r = await run('10-record', event);
      assert.ok(r.ms < 5000);
      assert.equal(await fs.readFile(path.join(out, 'stdin'), 'utf8'), event);
      const env = await fs.readFile(path.join(out, 'env'), 'utf8');
      assert.match(env, /^DEBYARD_EVENT_TYPE=INSTALLED$/m);
      assert.match(env, /^PATH=\/usr\/local\/sbin:/m);
      assert.doesNotMatch(env, /DEBYARD_TEST_SECRET|secret@db/);
    } finally {
      delete process.env.DEBYARD_TEST_SECRET;
    }
  });

  it('takes a hook that does not read its stdin, even a large one', async () => {
    const r = await run('40-quiet', JSON.stringify({ blob: 'x'.repeat(1 << 20) }));
    assert.equal(r.output, '');
  });

  it('says how a failing hook failed, with the end of its output', async () => {
    await assert.rejects(run('20-fail'), (err: Error) => {
      assert.ok(err instanceof HookError);
      assert.match(err.message, /20-fail exited with code 3; its output ends: cannot reach the tracker$/);
      return true;
    });
  });

  it('kills a hook that hangs (and ignores SIGTERM) with its process group at the time limit', async () => {
    const started = Date.now();
    await assert.rejects(
      run('30-hang', '{}', 500),
      /30-hang did not finish within 0\.5 s and was killed with its process group/,
    );
    const took = Date.now() - started;
    assert.ok(took < 4000, `took ${took} ms`);
    assert.ok(await gone(Number(await fs.readFile(path.join(out, 'child'), 'utf8'))), 'the hook’s child is gone too');
  });

  it('kills a running hook’s process group at once when the engine stops', async () => {
    await fs.rm(path.join(out, 'child'), { force: true });
    const stop = new AbortController();
    const started = Date.now();
    const running = runHook({
      file: await resolveHook(dir, '30-hang'),
      input: '{}',
      env: {},
      timeoutMs: 60_000,
      cwd: dir,
      signal: stop.signal,
    });
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    await assert.rejects(running, /30-hang was killed: the engine stopped while it ran/);
    assert.ok(Date.now() - started < 2000);
    assert.ok(await gone(Number(await fs.readFile(path.join(out, 'child'), 'utf8'))), 'the hook’s child is gone too');
  });

  it('checks hooksDir: absolute, normal, an existing directory nobody else can write', async () => {
    assert.equal(await checkHooksDir('hooksDir', ''), '');
    assert.equal(await checkHooksDir('hooksDir', ` ${dir} `), dir);
    const refusals: [string, RegExp][] = [
      ['hooks.d', /not an absolute path; e\.g\. \/etc\/debyard\/hooks\.d/],
      [`${dir}/../hooks.d`, /without "\.\.", "\." or doubled slashes/],
      [`${dir}/`, /without "\.\.", "\." or doubled slashes/],
      ['/nonexistent/hooks.d', /cannot be read by the daemon \(ENOENT\); create it first/],
      [path.join(dir, '40-quiet'), /is not a directory/],
      [os.tmpdir(), /is writable by group or others \(mode 777\)/],
    ];
    for (const [value, message] of refusals)
      await assert.rejects(checkHooksDir('hooksDir', value), (err: Error) => {
        assert.ok(err instanceof FieldError, String(err));
        assert.equal(err.field, 'hooksDir');
        assert.match(err.message, message);
        return true;
      });
  });
});
