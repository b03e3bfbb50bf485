import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import { addBuildCommands, describeWorkers, type WorkerRow } from './build-commands.js';

const grover: WorkerRow = {
  name: 'worker@grover',
  host: 'grover',
  pid: 4242,
  slots: 2,
  busy: 1,
  alive: true,
  startedAt: '2026-12-06T07:00:00.000Z',
  lastSeenAt: '2026-12-06T08:00:00.000Z',
};
const bert: WorkerRow = { ...grover, name: 'worker@bert', host: 'bert', pid: 7, busy: 0, alive: false };

/** Runs `debyard ARGS` against a daemon that answers every request with `data`; returns what it printed. */
async function run(t: TestContext, args: string[], data: unknown): Promise<{ out: string; queries: string[] }> {
  const queries: string[] = [];
  const api = {
    request: (query: string) => {
      queries.push(query);
      return Promise.resolve(data);
    },
  } as unknown as ApiClient;
  const program = new Command().exitOverride().option('--json');
  addBuildCommands(program, (cmd) => ({ api, json: Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json) }));
  const log = t.mock.method(console, 'log', () => undefined);
  await program.parseAsync(args, { from: 'user' });
  return { out: log.mock.calls.map((c) => String(c.arguments[0])).join('\n'), queries };
}

describe('debyard workers', () => {
  it('shows each worker: host, pid, busy slots, heartbeat', () => {
    const lines = describeWorkers([grover, bert]).split('\n');
    assert.match(lines[0]!, /^NAME\s+HOST\s+PID\s+BUSY\/SLOTS\s+HEALTH\s+LAST SEEN$/);
    assert.match(lines[1]!, /^worker@grover\s+grover\s+4242\s+1\/2\s+alive\s+2026-12-06T08:00:00\.000Z$/);
    assert.match(lines[2]!, /^worker@bert\s+bert\s+7\s+0\/2\s+no heartbeat\s+2026-12-06T08:00:00\.000Z$/);
  });

  it('says how to start one when there is none', () => {
    assert.match(describeWorkers([]), /debyard worker --database URL --packager URL --token-file FILE/);
  });

  it('asks for the builders’ workers and prints a table, or with --json the raw list', async (t) => {
    const data = { builders: { workers: [grover, bert] } };
    const human = await run(t, ['workers'], data);
    assert.match(human.queries[0]!, /builders \{ workers \{ name host pid slots busy alive startedAt lastSeenAt \} \}/);
    assert.equal(human.out, describeWorkers([grover, bert]));

    const json = await run(t, ['workers', '--json'], data);
    assert.deepEqual(JSON.parse(json.out), [grover, bert]);
  });
});
