#!/usr/bin/env node
// Runs the test suite once with Node's test runner and closes with "N passed, N failed, N skipped".
//
//   node scripts/run-tests.mjs                      every *.test.js under server/dist and tests/dist
//   node scripts/run-tests.mjs FILE|DIR ...         only those (a .test.ts source maps to its built .js)
//   node scripts/run-tests.mjs --test-name-pattern=X   other arguments starting with - go to `node --test`
//
// Files run two at a time (--test-concurrency=2): e2e tests start daemons, so they must use random
// ports and their own data directories. Exits non-zero when a test failed or the runner itself did.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const defaultRoots = ['server/dist', 'tests/dist'];

/** Every *.test.js below dir, sorted, skipping node_modules. */
function collect(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...collect(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(full);
  }
  return found.sort();
}

/**
 * tsc never deletes what it built, so a removed or renamed test lives on in dist/. A built test whose
 * source map names a source that is gone is stale and left out.
 */
function isStale(file) {
  try {
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
    const base = path.resolve(path.dirname(file), map.sourceRoot ?? '');
    return map.sources.length > 0 && map.sources.every((source) => !existsSync(path.resolve(base, source)));
  } catch {
    return false; // no map, no judgement
  }
}

/** A .ts test source (server/src/…, tests/…) maps to the file tsc built from it. */
function builtFileFor(file) {
  const rel = path.relative(repo, file).split(path.sep).join('/');
  let built;
  if (rel.startsWith('server/src/')) built = `server/dist/${rel.slice('server/src/'.length)}`;
  else if (rel.startsWith('tests/') && !rel.startsWith('tests/dist/'))
    built = `tests/dist/${rel.slice('tests/'.length)}`;
  else return undefined;
  built = path.join(repo, built.replace(/\.ts$/, '.js'));
  return existsSync(built) ? built : undefined;
}

const args = process.argv.slice(2);
const runnerFlags = args.filter((arg) => arg.startsWith('-'));
const selected = args.filter((arg) => !arg.startsWith('-'));

let files = [];
const explicit = new Set(); // named one by one: run even if stale
if (selected.length === 0) {
  for (const root of defaultRoots) {
    const dir = path.join(repo, root);
    if (existsSync(dir)) files.push(...collect(dir));
  }
} else {
  for (const arg of selected) {
    const full = path.resolve(arg);
    if (existsSync(full) && statSync(full).isDirectory()) files.push(...collect(full));
    else if (existsSync(full) && full.endsWith('.js')) explicit.add(full);
    else if (full.endsWith('.ts') && builtFileFor(full)) explicit.add(builtFileFor(full));
    else {
      console.error(`run-tests: no built test file for ${arg} (did the build run?)`);
      process.exit(2);
    }
  }
}
const stale = files.filter(isStale);
if (stale.length > 0) {
  console.log(
    `run-tests: leaving out ${stale.length} built test(s) whose source is gone: ${stale.map((f) => path.relative(repo, f)).join(', ')}`,
  );
  files = files.filter((file) => !stale.includes(file));
}
files = [...new Set([...files, ...explicit])];

if (files.length === 0) {
  console.log(
    selected.length
      ? 'run-tests: the given directories hold no *.test.js'
      : 'run-tests: no *.test.js under server/dist or tests/dist',
  );
  console.log('0 passed, 0 failed');
  process.exit(selected.length ? 2 : 0);
}

const workDir = mkdtempSync(path.join(tmpdir(), 'debyard-tests-'));
const countsFile = path.join(workDir, 'counts.json');
const runner = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    // A hung test fails after 30 minutes instead of using up CI's 90 (a test file counts as one test:
    // the pipeline suites build a dozen packages on 2 cores, publish.test.ts twenty-four, the network
    // suite runs three instances; beside another file's builds a trivial build takes over a minute, and
    // publish.test.ts took 12 min alone and over 20 beside the others).
    '--test-timeout=1800000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(repo, 'scripts/test-counts-reporter.mjs')}`,
    `--test-reporter-destination=${countsFile}`,
    ...runnerFlags,
    ...files,
  ],
  { cwd: repo, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));

const [code, signal] = await new Promise((resolve) => runner.on('close', (c, s) => resolve([c, s])));

let counts;
try {
  counts = JSON.parse(readFileSync(countsFile, 'utf8'));
} catch {
  counts = undefined;
}
rmSync(workDir, { recursive: true, force: true });

if (!counts) {
  console.log(`run-tests: the test runner ended (${signal ?? `exit code ${code}`}) before reporting its counts`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (code !== 0 && counts.failed === 0) {
  console.log(`run-tests: the test runner failed (${signal ?? `exit code ${code}`}) although no test did`);
}
const skipped = counts.skipped ? `, ${counts.skipped} skipped` : '';
console.log(`${counts.passed} passed, ${counts.failed} failed${skipped}`);
process.exit(counts.failed > 0 || code !== 0 ? 1 : 0);
