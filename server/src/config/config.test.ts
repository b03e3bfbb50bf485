import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveServeConfig } from './config.js';

const resolve = (flags: Parameters<typeof resolveServeConfig>[0], env: NodeJS.ProcessEnv = {}) =>
  resolveServeConfig(flags, env);

describe('serve configuration', () => {
  it('has zero-config defaults', () => {
    const c = resolve({});
    assert.equal(c.dataDir, '/var/lib/debyard');
    assert.deepEqual(c.http, { host: '0.0.0.0', port: 8066 });
    assert.deepEqual(c.ftp, { host: '0.0.0.0', port: 8067 });
    assert.deepEqual(c.ftpPassivePorts, { min: 8068, max: 8077 });
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.user, 'debyard');
    assert.match(c.identity, /^[a-z0-9][a-z0-9.+-]*$/);
  });

  it('takes flags over environment over defaults', () => {
    const env = { DEBYARD_HTTP: '127.0.0.1:9000', DEBYARD_FTP: '127.0.0.1:9001', DEBYARD_IDENTITY: 'ernie' };
    const c = resolve({ http: '[::1]:9100' }, env);
    assert.deepEqual(c.http, { host: '::1', port: 9100 });
    assert.deepEqual(c.ftp, { host: '127.0.0.1', port: 9001 });
    assert.equal(c.identity, 'ernie');
  });

  it('accepts a PostgreSQL DATABASE_URL and ignores an empty one', () => {
    assert.equal(
      resolve({}, { DATABASE_URL: 'postgres://u@db:5432/debyard' }).databaseUrl,
      'postgres://u@db:5432/debyard',
    );
    assert.equal(resolve({}, { DATABASE_URL: '' }).databaseUrl, undefined);
  });

  const bad: [string, Parameters<typeof resolveServeConfig>[0], NodeJS.ProcessEnv, RegExp][] = [
    ['http without port', { http: 'localhost' }, {}, /--http \/ DEBYARD_HTTP.*not HOST:PORT/],
    ['port out of range', { ftp: '0.0.0.0:70000' }, {}, /--ftp .*out of range/],
    ['env value named', {}, { DEBYARD_HTTP: 'x:y' }, /^DEBYARD_HTTP \(--http \/ DEBYARD_HTTP\)/],
    ['relative data dir', { dataDir: 'data' }, {}, /--data-dir .*not an absolute path/],
    ['identity with capitals', { identity: 'Ernie' }, {}, /not a valid identity/],
    ['same ports', { http: '127.0.0.1:9000', ftp: '127.0.0.1:9000' }, {}, /both use port 9000/],
    ['port in passive range', { http: '0.0.0.0:8070' }, {}, /inside the FTP passive range 8068-8077/],
    ['reversed passive range', { ftpPassivePorts: '9010-9000' }, {}, /ends before it starts/],
    ['size without number', { ftpMaxFileSize: 'lots' }, {}, /not a size, e.g. 2G/],
    ['mysql database', {}, { DATABASE_URL: 'mysql://x@y/z' }, /only PostgreSQL is supported/],
    ['database url without db', {}, { DATABASE_URL: 'postgres://x@y' }, /names no database/],
    ['garbage database url', {}, { DATABASE_URL: 'not a url' }, /DATABASE_URL is not a URL/],
    ['idle timeout zero', { ftpIdleTimeout: '0' }, {}, /out of range/],
  ];
  for (const [name, flags, env, message] of bad) {
    it(`rejects ${name} with a message naming the setting`, () => {
      assert.throws(
        () => resolve(flags, env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});
