import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CliError } from './api-client.js';
import { parseAssignments } from './config-commands.js';

describe('FIELD=VALUE assignments', () => {
  it('takes JSON where it parses and text otherwise', () => {
    assert.deepEqual(parseAssignments(['a=1', 'b=true', 'c=amd64,arm64', 'd=[1,2]', 'e={"x":"y"}', 'f=x=y', 'g=']), {
      a: 1,
      b: true,
      c: 'amd64,arm64',
      d: [1, 2],
      e: { x: 'y' },
      f: 'x=y',
      g: '',
    });
  });

  it('reads @file values', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dy-')), 'suites.json');
    fs.writeFileSync(file, '[{"name":"unstable"}]');
    assert.deepEqual(parseAssignments([`suites=@${file}`]), { suites: [{ name: 'unstable' }] });
  });

  it('refuses a pair without a field', () => {
    assert.throws(() => parseAssignments(['=x']), CliError);
    assert.throws(() => parseAssignments(['novalue']), /is not FIELD=VALUE/);
    assert.throws(() => parseAssignments(['a=@/nonexistent/file']), /cannot read/);
  });
});
