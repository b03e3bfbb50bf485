import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../graphql/errors.js';
import { postEvent } from './webhook-delivery.js';
import { checkEventTypes, checkSecret, checkUrl } from './webhook.service.js';

const SECRET = 'a-secret-of-24-characters';
const EVENT = { id: '12', type: 'INSTALLED', createdAt: '2026-11-22T06:00:00.000Z', summary: 'x', payload: { a: 1 } };

describe('webhooks: one POST', () => {
  let server: http.Server;
  let base: string;
  let answer = 200;
  const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        if (answer === 302) res.writeHead(302, { location: 'http://elsewhere.example/' }).end();
        else res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : `no\n  (${answer})`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the event signed over the exact body, with its id, type and a signed time stamp', async () => {
    const r = await postEvent({ url: `${base}/hook`, secret: SECRET }, EVENT);
    assert.equal(r.outcome, 'accepted');
    assert.match(r.message, /^HTTP 200 in \d+ ms$/);
    const { headers, body } = received.at(-1)!;
    const hmac = createHmac('sha256', SECRET).update(body).digest('hex');
    assert.equal(headers['x-debyard-signature'], `sha256=${hmac}`);
    assert.equal(headers['x-debyard-event-id'], '12');
    assert.equal(headers['x-debyard-event-type'], 'INSTALLED');
    assert.equal(headers['content-type'], 'application/json');
    const json = JSON.parse(body.toString('utf8')) as typeof EVENT & { timestamp: number };
    assert.deepEqual({ ...json, timestamp: 0 }, { ...EVENT, timestamp: 0 });
    assert.equal(String(json.timestamp), headers['x-debyard-timestamp']);
    assert.ok(Math.abs(json.timestamp - Date.now() / 1000) < 5);
  });

  it('retries on 5xx, 408, 429 and no connection; gives up on other 4xx and on redirects', async () => {
    for (const [status, outcome] of [
      [503, 'retry'],
      [429, 'retry'],
      [401, 'refused'],
      [302, 'refused'],
    ] as const) {
      answer = status;
      const r = await postEvent({ url: `${base}/hook`, secret: SECRET }, EVENT);
      assert.equal(r.outcome, outcome, `HTTP ${status}`);
      assert.equal(r.status, status);
    }
    answer = 401;
    assert.match(
      (await postEvent({ url: base, secret: SECRET }, EVENT)).message,
      /^HTTP 401: no \(401\): the target refuses the delivery \(check its URL and secret\); not retried$/,
    );
    answer = 302;
    assert.match(
      (await postEvent({ url: base, secret: SECRET }, EVENT)).message,
      /redirect to http:\/\/elsewhere\.example\/: redirects are not followed/,
    );
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await postEvent({ url: `http://127.0.0.1:${port}/`, secret: SECRET }, EVENT);
    assert.deepEqual(
      [refused.outcome, refused.status, refused.message],
      ['retry', null, 'connection refused (ECONNREFUSED)'],
    );
  });
});

describe('webhooks: what an administrator may give', () => {
  const refuses = (fn: () => unknown, field: string, message: RegExp) =>
    assert.throws(fn, (err: Error) => {
      assert.ok(err instanceof DomainError, String(err));
      assert.equal(err.extensions.code, 'BAD_USER_INPUT');
      assert.equal(err.extensions.field, field);
      assert.match(err.message, message);
      return true;
    });

  it('takes http(s) URLs only, without credentials or fragment', () => {
    assert.equal(checkUrl(' https://ci.example.org/hooks/debyard?x=1 '), 'https://ci.example.org/hooks/debyard?x=1');
    assert.equal(checkUrl('http://127.0.0.1:9000'), 'http://127.0.0.1:9000/');
    refuses(() => checkUrl(''), 'url', /^url: must not be empty/);
    refuses(
      () => checkUrl('ci.example.org/hook'),
      'url',
      /"ci\.example\.org\/hook" is not a URL; expected http\(s\):\/\//,
    );
    refuses(() => checkUrl('ftp://ci.example.org/'), 'url', /the scheme must be http or https, not "ftp"/);
    refuses(() => checkUrl('https://u:p@ci.example.org/'), 'url', /must not hold a user or password/);
    refuses(() => checkUrl('https://ci.example.org/#x'), 'url', /must not have a #fragment/);
  });

  it('takes secrets of 16 to 256 printable characters, never the redaction', () => {
    assert.equal(checkSecret('0123456789abcdef'), '0123456789abcdef');
    refuses(
      () => checkSecret('short'),
      'secret',
      /16 to 256 printable ASCII characters .* \(this one has 5 characters\); e\.g\. the output of: openssl rand -hex 32/,
    );
    refuses(() => checkSecret('with spaces in the secret'), 'secret', /without spaces/);
    refuses(() => checkSecret('***'), 'secret', /"\*\*\*" is how the secret is shown; give the secret itself/);
  });

  it('takes known event types (any case, each once), never the failure events', () => {
    assert.deepEqual(checkEventTypes(['installed', 'FAILED', 'INSTALLED']), ['INSTALLED', 'FAILED']);
    assert.deepEqual(checkEventTypes([]), []);
    refuses(
      () => checkEventTypes(['INSTALED']),
      'eventTypes',
      /unknown event type "INSTALED"; known types: DAEMON_STARTED, .*INSTALLED/,
    );
    refuses(
      () => checkEventTypes(['WEBHOOK_FAILED']),
      'eventTypes',
      /WEBHOOK_FAILED is never delivered: it reports a failed delivery, and delivering it could loop/,
    );
    refuses(() => checkEventTypes(['HOOK_FAILED']), 'eventTypes', /HOOK_FAILED is never delivered/);
  });
});
