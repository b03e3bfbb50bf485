import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeMirror } from './mirror-commands.js';

describe('debyard mirror', () => {
  it('says what was copied, what was signed again, and what to do with it', () => {
    const text = describeMirror({
      repository: 'test',
      directory: '/srv/www/debian',
      distributions: ['bookworm-test-stable', 'bookworm-test-unstable'],
      architectures: ['amd64'],
      resigned: ['bookworm-test-unstable'],
      poolFiles: 12,
      bytes: 3 * 1024 * 1024 + 512 * 1024,
      seconds: 0.42,
    });
    assert.equal(
      text,
      [
        'mirrored test into /srv/www/debian in 0.4 s: 2 distributions, 12 pool files, 3.5 MiB',
        'architectures: amd64 (and sources)',
        '  bookworm-test-stable',
        '  bookworm-test-unstable  (narrowed, signed again)',
        'copy the directory to any web space; apt needs its dists/ and pool/ and the archive key (debyard key --binary)',
      ].join('\n'),
    );
  });
});
