import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError, EXIT } from './api-client.js';
import { exitCodeFor, parseEventTypes, shows, type EventWatch } from './event-watch.js';
import type { EventRow } from './output.js';

const KNOWN = ['REJECTED', 'PACKAGING', 'INSTALLED', 'FAILED', 'BUILD_QUEUED', 'BUILD_FINISHED', 'CONFIG_FAILED'];

function event(type: string, source?: string): EventRow {
  return { id: '1', type, createdAt: '2025-01-01T00:00:00Z', summary: type, payload: source ? { source } : {} };
}

describe('event types on the command line', () => {
  it('takes a comma-separated list in any case, with prefixes', () => {
    assert.deepEqual(parseEventTypes('--exit-on', 'installed, FAILED,rejected', KNOWN), [
      'INSTALLED',
      'FAILED',
      'REJECTED',
    ]);
    assert.deepEqual(parseEventTypes('--type', 'build_*,installed,BUILD_QUEUED', KNOWN), [
      'BUILD_QUEUED',
      'BUILD_FINISHED',
      'INSTALLED',
    ]);
  });

  it('refuses a type the daemon does not know, naming the option', () => {
    assert.throws(
      () => parseEventTypes('--exit-on', 'INSTALLED,INSTALL', KNOWN),
      (err: unknown) =>
        err instanceof CliError && err.exitCode === EXIT.USAGE && /--exit-on: "INSTALL"/.test(err.message),
    );
    assert.throws(() => parseEventTypes('--type', 'NOPE_*', KNOWN), /not an event type/);
    assert.throws(() => parseEventTypes('--type', ' , ', KNOWN), /at least one/);
    assert.throws(() => parseEventTypes('--type', 'in stalled', null), /not an event type/);
  });

  it('checks only the form when the daemon hides its schema', () => {
    assert.deepEqual(parseEventTypes('--type', 'installed,build_*', null), ['INSTALLED', 'BUILD_*']);
    assert.equal(shows({ types: ['BUILD_*'] }, event('BUILD_STARTED')), true);
    assert.equal(shows({ types: ['BUILD_*'] }, event('INSTALLED')), false);
  });
});

describe('following events of one source until it is done', () => {
  const watch: EventWatch = { source: 'hello', exitOn: ['INSTALLED', 'FAILED', 'REJECTED'] };

  it('shows only events about the source, of the types asked for', () => {
    assert.equal(shows(watch, event('PACKAGING', 'hello')), true);
    assert.equal(shows(watch, event('PACKAGING', 'hello-extra')), false);
    assert.equal(shows(watch, event('DAEMON_STARTED')), false);
    assert.equal(shows({}, event('DAEMON_STARTED')), true);
    assert.equal(shows({ source: 'hello', types: ['BUILD_FINISHED'] }, event('PACKAGING', 'hello')), false);
  });

  it('ends with 0 on INSTALLED and 1 on FAILED or REJECTED, of that source only', () => {
    assert.equal(exitCodeFor(watch, event('INSTALLED', 'hello')), EXIT.OK);
    assert.equal(exitCodeFor(watch, event('FAILED', 'hello')), EXIT.FAILED);
    assert.equal(exitCodeFor(watch, event('REJECTED', 'hello')), EXIT.FAILED);
    assert.equal(exitCodeFor(watch, event('INSTALLED', 'other')), null);
    assert.equal(exitCodeFor(watch, event('PACKAGING', 'hello')), null);
    assert.equal(exitCodeFor({}, event('INSTALLED', 'hello')), null);
  });

  it('treats any *_FAILED as a failure and other types as success', () => {
    assert.equal(exitCodeFor({ exitOn: ['CONFIG_FAILED'] }, event('CONFIG_FAILED')), EXIT.FAILED);
    assert.equal(exitCodeFor({ exitOn: ['BUILD_FINISHED'] }, event('BUILD_FINISHED', 'hello')), EXIT.OK);
  });
});
