#!/usr/bin/env node
// Builder overhead: a trivial package (tests/fixtures/packages/hello-c) built by debyard — from the
// testBuild mutation to the build's result — against a bare `sbuild` of the same .dsc with the same
// arguments in the same chroot, run as the same user. The ratio is what the builder adds around sbuild.
//
//   node bench/build-overhead.mjs [--runs N] [--lintian]
//
// Runs as root (the daemon drops to `debyard`; bare sbuild runs as `debyard` through runuser). It sets
// up its own daemon with `setup --chroots` (a real chroot: about a minute), so it needs the mirror.
// With --lintian, lintian (errfail) runs after each debyard build, as in production; by default QA is
// off, so both sides do the same work. Exits 0 whatever the ratio; non-zero only if it cannot measure.
//
// Then the two targets of a running build (DESIGN.md): a build of tests/fixtures/packages/slow-pkg (it
// sleeps a minute) is followed over the buildLog subscription, each chunk timed against the moment
// the log file reached its end (polled every 20 ms): target 1 s; then it is cancelled, timed from
// the cancelBuild mutation to the build's BUILT state: target 2 s (mini-buildd: 8 s).

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestDaemon, eventually } from '../tests/dist/support/daemon.js';
import { buildLogLags } from '../tests/dist/support/log-lag.js';
import { buildSourcePackage } from '../tests/dist/support/packages.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? NaN : 3);
const lintian = args.includes('--lintian');
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/build-overhead.mjs [--runs N] [--lintian]');
  process.exit(2);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Splits the logged command line (words quoted as a POSIX shell would) back into argv. */
function shellWords(line) {
  const words = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m; (m = re.exec(line));) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return words;
}

const daemon = await TestDaemon.start();
const token = await daemon.adminToken;
const sources = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-bench-'));
try {
  await fs.chmod(sources, 0o755);
  const t0 = Date.now();
  const setup = await daemon.cli(
    ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'],
    { timeoutMs: 900_000 },
  );
  if (setup.exitCode !== 0) throw new Error(`setup failed:\n${setup.stdout}${setup.stderr}`);
  console.log(`setup with a chroot: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const mode = lintian ? 'errfail' : 'disabled';
  for (const field of [`lintianMode=${mode}`, 'autopkgtestMode=disabled'])
    await daemon.cli(['config', 'distribution', 'set', 'bookworm', field]);
  const dsc = await buildSourcePackage('hello-c', sources);

  const gql = async (query, variables) => {
    const r = await daemon.gql(query, variables, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const debyardBuild = async () => {
    const started = Date.now();
    const { testBuild } = await gql(
      'mutation($d: String!) { testBuild(dsc: $d, distribution: "bookworm", architecture: "amd64") { id } }',
      { d: dsc },
    );
    const b = await eventually(async () => {
      const { build } = await gql('query($id: ID!) { build(id: $id) { state result sbuildSeconds } }', {
        id: testBuild.id,
      });
      return build.state === 'BUILT' ? build : undefined;
    }, 600_000);
    if (b.result !== 'SUCCESSFUL') throw new Error(`build ${testBuild.id} ended ${b.result}`);
    return { id: testBuild.id, seconds: (Date.now() - started) / 1000 };
  };
  const bareBuild = async (id) => {
    const log = await fs.readFile(path.join(daemon.dataDir, 'builds', id, 'build.log'), 'utf8');
    const line = log.split('\n').find((l) => l.startsWith('debyard: sbuild '));
    const argv = shellWords(line.slice('debyard: sbuild '.length));
    const dir = await fs.mkdtemp(path.join(sources, 'bare-'));
    await fs.chmod(dir, 0o777);
    const started = Date.now();
    await run('runuser', ['-u', 'debyard', '--', 'sbuild', ...argv], { cwd: dir, maxBuffer: 64 << 20 });
    return (Date.now() - started) / 1000;
  };

  await debyardBuild(); // warm the page cache and the chroot
  const ours = [];
  const bare = [];
  for (let i = 0; i < runs; i++) {
    const b = await debyardBuild();
    ours.push(b.seconds);
    bare.push(await bareBuild(b.id));
    console.log(`run ${i + 1}: debyard ${b.seconds.toFixed(2)} s, bare sbuild ${bare.at(-1).toFixed(2)} s`);
  }
  const [o, s] = [median(ours), median(bare)];
  console.log(
    `median: debyard ${o.toFixed(2)} s, bare sbuild ${s.toFixed(2)} s${lintian ? ' (debyard with lintian)' : ''}`,
  );
  console.log(`builder overhead: ${(o - s).toFixed(2)} s; ratio debyard / bare sbuild = ${(o / s).toFixed(3)}`);

  // A running build: log lag over the subscription, then cancel to slot free.
  const slowDsc = await buildSourcePackage('slow-pkg', sources);
  const { testBuild: slow } = await gql(
    'mutation($d: String!) { testBuild(dsc: $d, distribution: "bookworm", architecture: "amd64") { id } }',
    { d: slowDsc },
  );
  const lags = await buildLogLags({
    httpUrl: daemon.httpUrl,
    buildId: slow.id,
    logFile: path.join(daemon.dataDir, 'builds', slow.id, 'build.log'),
    chunks: 10,
    token,
  });
  await eventually(async () => {
    const { build } = await gql('query($id: ID!) { build(id: $id) { state } }', { id: slow.id });
    return build.state === 'BUILDING' || undefined;
  }, 120_000);
  await new Promise((r) => setTimeout(r, 3000)); // into the sleep
  const cancelAt = Date.now();
  await gql('mutation($id: ID!) { cancelBuild(id: $id) { id } }', { id: slow.id });
  const cancelled = await eventually(async () => {
    const { build } = await gql('query($id: ID!) { build(id: $id) { state result } }', { id: slow.id });
    return build.state === 'BUILT' ? build : undefined;
  }, 120_000);
  const cancelSeconds = (Date.now() - cancelAt) / 1000;
  if (cancelled.result !== 'CANCELLED') throw new Error(`build ${slow.id} ended ${cancelled.result}`);
  const maxLag = Math.max(...lags) / 1000;
  console.log(
    `log lag over ${lags.length} chunks: median ${(median(lags) / 1000).toFixed(3)} s, max ${maxLag.toFixed(3)} s; ` +
      `target 1 s, ratio ${maxLag.toFixed(3)}`,
  );
  console.log(
    `cancel to slot free: ${cancelSeconds.toFixed(2)} s; target 2 s, ratio ${(cancelSeconds / 2).toFixed(3)} ` +
      `(mini-buildd 8 s: ${(cancelSeconds / 8).toFixed(3)})`,
  );
} finally {
  await daemon.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
  await daemon.dispose();
  await fs.rm(sources, { recursive: true, force: true });
}
