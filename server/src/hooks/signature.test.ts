import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signBody, webhookBody } from './signature.js';

describe('webhook signatures', () => {
  it('is HMAC-SHA256 in hex (RFC 4231, test case 2)', () => {
    assert.equal(
      signBody('Jefe', 'what do ya want for nothing?'),
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('covers the exact body bytes, time stamp included', () => {
    const event = {
      id: '42',
      type: 'INSTALLED',
      createdAt: '2026-11-22T06:00:00.000Z',
      summary: 'hällo ✓',
      payload: {},
    };
    const body = webhookBody({ ...event, timestamp: 1795000000 });
    assert.equal(JSON.parse(body).timestamp, 1795000000);
    const expected = createHmac('sha256', 's3cret-s3cret-s3cret').update(Buffer.from(body, 'utf8')).digest('hex');
    assert.equal(signBody('s3cret-s3cret-s3cret', body), `sha256=${expected}`);
    assert.notEqual(
      signBody('s3cret-s3cret-s3cret', webhookBody({ ...event, timestamp: 1795000001 })),
      `sha256=${expected}`,
    );
    assert.notEqual(signBody('another-secret-value', body), `sha256=${expected}`);
  });
});
