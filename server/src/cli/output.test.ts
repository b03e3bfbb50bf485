import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { CliError, EXIT } from './api-client.js';
import { describeFailure, formatFailure } from './output.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Runs the built `debyard` with no daemon behind --url. */
async function debyard(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH, DEBYARD_DATA_DIR: '/nonexistent' },
    });
    return { exitCode: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { exitCode: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('how debyard reports a failure', () => {
  it('keeps the daemon’s code and message, and the exit code that goes with it', () => {
    const failure = describeFailure(new CliError('bookworm-x is not a published distribution', EXIT.FAILED, 'NOPE'));
    assert.deepEqual(failure, { message: 'bookworm-x is not a published distribution', code: 'NOPE', exitCode: 1 });
    assert.equal(formatFailure(failure!, false), 'debyard: error: bookworm-x is not a published distribution (NOPE)');
  });

  it('gives failures the CLI finds itself a code by their exit code', () => {
    assert.equal(describeFailure(new CliError('--limit must be a whole number', EXIT.USAGE))?.code, 'USAGE');
    assert.equal(describeFailure(new CliError('cannot reach debyard', EXIT.UNREACHABLE))?.code, 'UNREACHABLE');
    assert.equal(describeFailure(new CliError('refused', EXIT.DENIED))?.code, 'DENIED');
    assert.equal(describeFailure(new CliError('it failed', EXIT.FAILED))?.code, 'FAILED');
  });

  it('reports usage errors, bad settings, coded and unexpected errors, but not --help', () => {
    const usage = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--nope'");
    assert.deepEqual(describeFailure(usage), { message: "unknown option '--nope'", code: 'USAGE', exitCode: 2 });
    assert.deepEqual(describeFailure(new ConfigError('DEBYARD_FTP: port 99999 is out of range')), {
      message: 'invalid configuration: DEBYARD_FTP: port 99999 is out of range',
      code: 'INVALID_CONFIGURATION',
      exitCode: 2,
    });
    const coded = Object.assign(new Error('another debyard is running'), { code: 'ALREADY_RUNNING' });
    assert.deepEqual(describeFailure(coded), {
      message: 'another debyard is running',
      code: 'ALREADY_RUNNING',
      exitCode: 1,
    });
    const unexpected = describeFailure(new TypeError('x is undefined'));
    assert.equal(unexpected?.code, 'UNEXPECTED');
    assert.match(unexpected!.message, /^unexpected failure: TypeError: x is undefined/);
    assert.equal(describeFailure(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')), undefined);
  });

  it('prints one JSON object for scripts with --json', () => {
    const failure = { message: 'has no snapshot "x"', code: 'NOT_FOUND', exitCode: 1 };
    assert.deepEqual(JSON.parse(formatFailure(failure, true)), { error: failure });
  });

  it('prints `debyard: error: <message> (<CODE>)` on stderr with the documented exit code, nothing on stdout', async () => {
    const unreachable = await debyard(['--url', 'http://127.0.0.1:1', 'status']);
    assert.equal(unreachable.exitCode, EXIT.UNREACHABLE);
    assert.equal(unreachable.stdout, '');
    assert.match(
      unreachable.stderr,
      /^debyard: error: cannot reach debyard at http:\/\/127\.0\.0\.1:1 .* \(UNREACHABLE\)\n$/,
    );

    const json = await debyard(['--url', 'http://127.0.0.1:1', 'status', '--json']);
    assert.equal(json.exitCode, EXIT.UNREACHABLE);
    assert.equal(json.stdout, '');
    const { error } = JSON.parse(json.stderr) as { error: { message: string; code: string; exitCode: number } };
    assert.equal(error.code, 'UNREACHABLE');
    assert.equal(error.exitCode, EXIT.UNREACHABLE);
    assert.match(error.message, /^cannot reach debyard at http:\/\/127\.0\.0\.1:1 /);

    const usage = await debyard(['status', '--nope']);
    assert.equal(usage.exitCode, EXIT.USAGE);
    assert.equal(usage.stderr, "debyard: error: unknown option '--nope' (USAGE)\n");
    const badUrl = await debyard(['--url', 'ftp://x', 'status']);
    assert.equal(badUrl.exitCode, EXIT.USAGE);
    assert.equal(badUrl.stderr, 'debyard: error: --url / DEBYARD_URL: "ftp://x" must be http:// or https:// (USAGE)\n');

    const group = await debyard(['snapshot']);
    assert.equal(group.exitCode, EXIT.USAGE);
    assert.match(group.stderr, /^Usage: debyard snapshot .*\ndebyard: error: no command given \(USAGE\)\n$/s);

    const help = await debyard(['status', '--help']);
    assert.equal(help.exitCode, EXIT.OK);
    assert.equal(help.stderr, '');
  });
});
