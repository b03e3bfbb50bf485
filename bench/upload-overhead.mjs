#!/usr/bin/env node
// Upload to INSTALLED: a trivial signed source package (tests/fixtures/packages/hello-c) sent with stock
// `dput` over FTP, timed from the end of dput to the upload's INSTALLED state, against the sbuild and QA
// (lintian on the host, errfail) times the builds record. What is left is debyard's own share
// (intake, checks, queueing, install): its target is under 1 s (the issue; DESIGN.md says 0.3 s), and
// the whole at most 1/5 of mini-buildd's minute (12 s).
//
//   node bench/upload-overhead.mjs [--runs N]
//
// Runs as root (the daemon drops to `debyard`). It sets up its own daemon with `setup --chroots` (a
// real chroot: about half a minute), so it needs the mirror. Exits 0 whatever the numbers are.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestDaemon, eventually } from '../tests/dist/support/daemon.js';
import { generateUploaderKey, makeUpload } from '../tests/dist/support/uploads.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/upload-overhead.mjs [--runs N]');
  process.exit(2);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const daemon = await TestDaemon.start();
const token = await daemon.adminToken;
const key = await generateUploaderKey({ name: 'Bench Uploader' });
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-bench-upload-'));
try {
  const setup = await daemon.cli(
    ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'],
    { timeoutMs: 900_000 },
  );
  if (setup.exitCode !== 0) throw new Error(`setup failed:\n${setup.stdout}${setup.stderr}`);
  const gql = async (query, variables = {}) => {
    const r = await daemon.gql(query, variables, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const { status } = await gql('{ status { identity } }');
  const dputCf = path.join(work, 'dput.cf');
  await fs.writeFile(dputCf, (await daemon.cli(['dput-config'])).stdout);

  /** The steps between dput's end and INSTALLED, from the events' own times (the build less sbuild and QA). */
  const stages = async (version, dputEnd, tools) => {
    const { events } = await gql('{ events(limit: 100) { type createdAt payload } }');
    const at = (type) => {
      const e = events.find((ev) =>
        type === 'UPLOAD_RECEIVED'
          ? ev.type === type && ev.payload.changesName === `hello-c_${version}_source.changes`
          : ev.type === type && ev.payload.source === 'hello-c' && ev.payload.version === version,
      );
      return e ? Date.parse(e.createdAt) : NaN;
    };
    const marks = [
      ['intake', at('UPLOAD_RECEIVED')],
      ['checks', at('PACKAGING')],
      ['to sbuild', at('BUILD_STARTED')],
      ['build less sbuild/QA', at('BUILD_FINISHED') - tools * 1000],
      ['to install', at('INSTALLING')],
      ['install', at('INSTALLED')],
    ];
    let last = dputEnd;
    return marks
      .map(([name, t]) => {
        const part = `${name} ${((t - last) / 1000).toFixed(3)} s`;
        last = name === 'build less sbuild/QA' ? t + tools * 1000 : t;
        return part;
      })
      .join(', ');
  };

  const rows = [];
  for (let i = 0; i <= runs; i++) {
    const version = `1.${i}~test12+1`;
    const u = await makeUpload('hello-c', { version, distribution: 'bookworm-test-unstable', sign: key, outDir: work });
    await run('dput', ['-c', dputCf, `debyard-${status.identity}`, u.changes], {
      env: { ...process.env, GNUPGHOME: key.gnupgHome, HOME: work },
    });
    const dputEnd = Date.now();
    const done = await eventually(async () => {
      const { uploads } = await gql(
        'query($s: String) { uploads(source: $s, first: 5) { nodes { version state reason finishedAt builds { sbuildSeconds qaSeconds } } } }',
        { s: 'hello-c' },
      );
      const row = uploads.nodes.find((n) => n.version === version);
      return row && ['INSTALLED', 'FAILED', 'REJECTED'].includes(row.state) ? row : undefined;
    }, 600_000);
    // The daemon's own INSTALLED time (same clock), not when this poll noticed it.
    const total = (Date.parse(done.finishedAt) - dputEnd) / 1000;
    if (done.state !== 'INSTALLED') throw new Error(`${version} ended ${done.state}: ${done.reason}`);
    const sbuild = done.builds.reduce((s, b) => s + (b.sbuildSeconds ?? 0), 0);
    const qa = done.builds.reduce((s, b) => s + (b.qaSeconds ?? 0), 0);
    if (i === 0) {
      console.log(`warm-up: ${total.toFixed(2)} s`);
      continue;
    }
    rows.push({ total, sbuild, qa });
    console.log(
      `run ${i}: dput end → INSTALLED ${total.toFixed(2)} s, sbuild ${sbuild.toFixed(2)} s, QA ${qa.toFixed(2)} s, debyard ${(total - sbuild - qa).toFixed(2)} s`,
    );
    console.log(`  where debyard's share went: ${await stages(version, dputEnd, sbuild + qa)}`);
  }
  const total = median(rows.map((r) => r.total));
  const sbuild = median(rows.map((r) => r.sbuild));
  const qa = median(rows.map((r) => r.qa));
  const own = median(rows.map((r) => r.total - r.sbuild - r.qa));
  console.log(
    `median: dput end → INSTALLED ${total.toFixed(2)} s, sbuild ${sbuild.toFixed(2)} s, QA ${qa.toFixed(2)} s`,
  );
  console.log(
    `debyard's own share (all but sbuild and QA): ${own.toFixed(2)} s; ratio to the 1 s target ${own.toFixed(3)}`,
  );
  console.log(`against mini-buildd's ~60 s: ${(total / 60).toFixed(3)} (target at most 0.2)`);
} finally {
  await daemon.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
  await daemon.dispose();
  await key.dispose();
  await fs.rm(work, { recursive: true, force: true });
}
