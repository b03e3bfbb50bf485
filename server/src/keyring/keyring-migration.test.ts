import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UploadVia, type PortOrigin } from '../upload/upload.entity.js';
import { KEYRING_ORIGIN, keyringMigrationJob } from './keyring-migration.js';

const origin = (over: Partial<PortOrigin> = {}): PortOrigin => ({
  from: KEYRING_ORIGIN,
  fromVersion: '20261122035000~test12+1',
  by: 'admin',
  autoPortOf: null,
  migrateAlong: true,
  ...over,
});
const upload = (port: PortOrigin | null, via = UploadVia.PORT) => ({
  id: 7,
  via,
  port,
  targetDistribution: 'bookworm-test-unstable',
});

describe('the keyring package migrates along', () => {
  test('an installed keyring package asked to migrate along, from a suite that migrates: one job per upload', () => {
    assert.deepEqual(keyringMigrationJob(upload(origin()), 'testing'), {
      distribution: 'bookworm-test-unstable',
      jobKey: 'keyring-migrate:7',
    });
  });

  test('withoutMigration, or an upload from before the option (null), stays where it is', () => {
    assert.equal(keyringMigrationJob(upload(origin({ migrateAlong: false })), 'testing'), null);
    assert.equal(keyringMigrationJob(upload(origin({ migrateAlong: null })), 'testing'), null);
    assert.equal(keyringMigrationJob(upload(origin({ migrateAlong: undefined })), 'testing'), null);
  });

  test('a suite that migrates nowhere has nothing to do', () => {
    assert.equal(keyringMigrationJob(upload(origin()), null), null);
  });

  test('other ports and uploads never migrate by themselves, whatever their origin says', () => {
    assert.equal(keyringMigrationJob(upload(origin({ from: 'bookworm-test-unstable' })), 'testing'), null);
    assert.equal(keyringMigrationJob(upload(origin(), UploadVia.FTP), 'testing'), null);
    assert.equal(keyringMigrationJob(upload(null), 'testing'), null);
    assert.equal(keyringMigrationJob({ ...upload(origin()), targetDistribution: null }, 'testing'), null);
  });
});
