import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { pino } from 'pino';
import { InstanceKeyStore } from '../pgp/instance-key.js';
import { SignatureError, readArmoredKeys } from '../pgp/verify.js';
import {
  HANDSHAKE_TEXT,
  RemoteClient,
  RemoteError,
  handshakeChallenge,
  normalizeRemoteUrl,
  parseStatus,
  statusToWire,
  verifyHandshakeReply,
  verifyHandshakeRequest,
  type InstanceStatus,
} from './wire.js';

const quiet = pino({ level: 'silent' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-wire-'));

async function instance(identity: string): Promise<{ store: InstanceKeyStore; key: openpgp.PublicKey }> {
  const store = new InstanceKeyStore({ keysDir: path.join(tmp, identity), logger: quiet });
  await store.generate({ identity, email: `debyard@${identity}` });
  const [key] = await readArmoredKeys(await store.armoredPublicKey());
  return { store, key: key! };
}

/** mini-buildd 2.2.8's status answer (reference/mini-buildd.md §1.2). */
const MINI_BUILDD_STATUS = {
  version: '2.2.8~bpo12+1',
  identity: 'grover',
  url: 'http://grover:8066',
  incoming_url: 'ftp://grover:8067',
  load: 0.5,
  chroots: ['bookworm:amd64', 'bookworm:i386'],
  remotes: ['http://ernie:8066'],
};

describe('remote URLs', () => {
  it('keeps scheme, host and port only, the host in lower case', () => {
    assert.equal(normalizeRemoteUrl(' http://Grover:8066/ '), 'http://grover:8066');
    assert.equal(normalizeRemoteUrl('https://ernie.example:443'), 'https://ernie.example');
    assert.equal(normalizeRemoteUrl('http://[::1]:8066'), 'http://[::1]:8066');
  });

  it('refuses what is not http(s)://host:port, saying what to give', () => {
    for (const bad of [
      'grover:8066',
      'ftp://grover:8067',
      'http://grover:8066/mini_buildd',
      'http://u:p@grover:8066',
      'http://grover:8066/?x=1',
    ])
      assert.throws(() => normalizeRemoteUrl(bad), /http\(s\):\/\/host:port/, bad);
  });
});

describe('status wire format', () => {
  it('reads mini-buildd’s status, without debyard’s counts', () => {
    const s = parseStatus(MINI_BUILDD_STATUS, 'http://grover:8066');
    assert.deepEqual(s, {
      version: '2.2.8~bpo12+1',
      identity: 'grover',
      url: 'http://grover:8066',
      incomingUrl: 'ftp://grover:8067',
      load: 0.5,
      chroots: ['bookworm:amd64', 'bookworm:i386'],
      remotes: ['http://ernie:8066'],
      builds: null,
      packages: null,
    });
  });

  it('writes ours in mini-buildd’s names and reads it back', () => {
    const ours: InstanceStatus = {
      version: '0.1.0',
      identity: 'ernie',
      url: 'http://ernie:8066',
      incomingUrl: 'ftp://ernie:8067/',
      load: 1 / 3,
      chroots: ['bookworm:amd64'],
      remotes: [],
      builds: 2,
      packages: 1,
    };
    const wire = statusToWire(ours);
    assert.equal(wire.incoming_url, 'ftp://ernie:8067/');
    assert.equal(wire.load, 0.33);
    assert.deepEqual(parseStatus(JSON.parse(JSON.stringify(wire)), 'http://ernie:8066'), { ...ours, load: 0.33 });
  });

  it('calls anything else not an instance, naming the URL', () => {
    for (const body of [
      {},
      [],
      'hello',
      null,
      { ...MINI_BUILDD_STATUS, chroots: 'bookworm:amd64' },
      { ...MINI_BUILDD_STATUS, load: '0' },
    ])
      assert.throws(
        () => parseStatus(body, 'http://web:80'),
        (err: RemoteError) =>
          err.code === 'NOT_AN_INSTANCE' &&
          err.message.startsWith('http://web:80 is not a debyard or mini-buildd instance'),
      );
  });
});

describe('handshake', () => {
  let ernie: Awaited<ReturnType<typeof instance>>;
  let grover: Awaited<ReturnType<typeof instance>>;
  let stranger: Awaited<ReturnType<typeof instance>>;
  before(async () => {
    [ernie, grover, stranger] = await Promise.all([instance('ernie'), instance('grover'), instance('stranger')]);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('goes both ways: each side signs, each verifies the other against the key it holds', async () => {
    const challenge = handshakeChallenge();
    assert.match(challenge, /^Hand Shake [0-9a-f]{32}$/);
    const signed = await ernie.store.signCleartext(challenge);
    const text = await verifyHandshakeRequest(signed, [stranger.key, ernie.key]);
    assert.equal(text, challenge);
    const reply = await grover.store.signCleartext(text);
    await verifyHandshakeReply(reply, challenge, grover.key, 'http://grover:8066');
  });

  it('accepts mini-buildd’s fixed "Hand Shake" both ways', async () => {
    assert.equal(
      await verifyHandshakeRequest(await ernie.store.signCleartext(HANDSHAKE_TEXT), [ernie.key]),
      HANDSHAKE_TEXT,
    );
    await verifyHandshakeReply(
      await grover.store.signCleartext(HANDSHAKE_TEXT),
      handshakeChallenge(),
      grover.key,
      'http://grover:8066',
    );
  });

  it('refuses a handshake signed by a key that is not one of our remotes', async () => {
    const signed = await stranger.store.signCleartext(handshakeChallenge());
    await assert.rejects(
      verifyHandshakeRequest(signed, [ernie.key, grover.key]),
      (err: SignatureError) => err.code === 'UNKNOWN_KEY',
    );
  });

  it('refuses a signed text that is not a handshake, and an old one', async () => {
    await assert.rejects(
      verifyHandshakeRequest(await ernie.store.signCleartext('Please build this'), [ernie.key]),
      /not "Hand Shake"/,
    );
    const later = new Date(Date.now() + 20 * 60_000);
    await assert.rejects(
      verifyHandshakeRequest(await ernie.store.signCleartext(handshakeChallenge()), [ernie.key], later),
      (err: SignatureError) => err.code === 'EXPIRED_SIGNATURE' && /replay/.test(err.message),
    );
  });

  it('calls an answer by another key, or to another challenge, a key mismatch', async () => {
    const challenge = handshakeChallenge();
    await assert.rejects(
      verifyHandshakeReply(await stranger.store.signCleartext(challenge), challenge, grover.key, 'http://grover:8066'),
      (err: RemoteError) =>
        err.code === 'REMOTE_KEY_MISMATCH' && err.message.includes(grover.key.getFingerprint().toUpperCase()),
    );
    await assert.rejects(
      verifyHandshakeReply(
        await grover.store.signCleartext(handshakeChallenge()),
        challenge,
        grover.key,
        'http://grover:8066',
      ),
      (err: RemoteError) => err.code === 'REMOTE_KEY_MISMATCH' && /not our handshake/.test(err.message),
    );
  });
});

describe('RemoteClient', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/mini_buildd/api/status/')) res.end(JSON.stringify(MINI_BUILDD_STATUS));
      else if (req.url?.startsWith('/mini_buildd/api/handshake/?signed_message='))
        res.writeHead(401, { 'content-type': 'application/problem+json' }).end(
          JSON.stringify({
            status: 401,
            title: 'Unauthorized',
            detail: 'handshake: no valid signature by a known key',
          }),
        );
      else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('reads a status over HTTP', async () => {
    assert.equal((await new RemoteClient(url).status()).identity, 'grover');
  });

  it('names the URL it cannot reach', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await assert.rejects(
      new RemoteClient(`http://127.0.0.1:${port}`).status(),
      (err: RemoteError) =>
        err.code === 'REMOTE_UNREACHABLE' && err.message === `cannot reach http://127.0.0.1:${port}: ECONNREFUSED`,
    );
  });

  it('calls a web server without the API not an instance', async () => {
    await assert.rejects(
      new RemoteClient(url).pubKey(),
      (err: RemoteError) => err.code === 'NOT_AN_INSTANCE' && /answered HTTP 404 without JSON/.test(err.message),
    );
  });

  it('reads a refused handshake as: the other side does not list us', async () => {
    await assert.rejects(
      new RemoteClient(url).handshake('signed'),
      (err: RemoteError) =>
        err.code === 'REMOTE_DOES_NOT_LIST_US' && /no valid signature by a known key/.test(err.message),
    );
  });
});
