import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressOf,
  composeMail,
  MAILED_EVENTS,
  recipients,
  STAFF_MAILED_EVENTS,
  subscriptionMatches,
  type MailEvent,
} from './mail.js';

const installed: MailEvent = {
  id: '42',
  type: 'INSTALLED',
  summary: 'hello-c 1.0~test12+1 (bookworm-test-unstable) upload #7 installed',
  createdAt: new Date('2026-01-02T03:04:05Z'),
  payload: {
    upload: 7,
    source: 'hello-c',
    version: '1.0~test12+1',
    distribution: 'bookworm-test-unstable',
    repository: 'test',
    changesUrl: '/uploads/7/hello-c_1.0~test12+1_source.changes',
    reason: null,
  },
};

const none = {
  subscribers: [],
  repositoryAddresses: [],
  daemonAddresses: [],
  changedBy: null,
  maintainer: null,
  notifyChangedBy: false,
  notifyMaintainer: false,
  allowEmailsTo: '',
};

describe('notification mail', () => {
  it('mails the ends of uploads, failed ports and checks, never progress, audit or its own failures', () => {
    for (const t of [
      'REJECTED',
      'INSTALLED',
      'FAILED',
      'PORT_FAILED',
      'MIGRATION_FAILED',
      'CONFIG_FAILED',
      'MIGRATED',
      'REMOVED',
      'USER_SIGNED_UP',
    ])
      assert.ok(MAILED_EVENTS.has(t), t);
    assert.deepEqual([...STAFF_MAILED_EVENTS], ['USER_SIGNED_UP']);
    for (const t of ['PACKAGING', 'BUILD_STARTED', 'SUBSCRIBED', 'USER_CREATED', 'MAIL_FAILED'])
      assert.ok(!MAILED_EVENTS.has(t), t);
  });

  it('matches subscriptions by source and distribution, null meaning all', () => {
    const m = (source: string | null, distribution: string | null) =>
      subscriptionMatches({ source, distribution }, installed);
    assert.equal(m(null, null), true);
    assert.equal(m('hello-c', null), true);
    assert.equal(m(null, 'bookworm-test-unstable'), true);
    assert.equal(m('hello-c', 'bookworm-test-unstable'), true);
    assert.equal(m('hello-all', null), false);
    assert.equal(m('hello-c', 'bookworm-test-experimental'), false);
    const config = { ...installed, type: 'CONFIG_FAILED', payload: { kind: 'REPOSITORY', key: 'test' } };
    assert.equal(subscriptionMatches({ source: null, distribution: null }, config), true, 'all: everything');
    assert.equal(subscriptionMatches({ source: 'hello-c', distribution: null }, config), false);
  });

  it('gathers subscribers, repository and daemon addresses once each, ignoring case', () => {
    assert.deepEqual(
      recipients({
        ...none,
        subscribers: ['alice@example.org', 'bob@example.org'],
        repositoryAddresses: ['Alice@Example.org', 'team@example.org'],
        daemonAddresses: ['ops@example.org', 'team@example.org'],
      }),
      ['alice@example.org', 'bob@example.org', 'team@example.org', 'ops@example.org'],
    );
  });

  it('mails Changed-By and Maintainer only when switched on and allowEmailsTo matches the whole address', () => {
    const people = { changedBy: 'Carol Uploader <carol@example.org>', maintainer: 'Dan <dan@lists.example.net>' };
    assert.deepEqual(recipients({ ...none, ...people, allowEmailsTo: '.*' }), [], 'switched off');
    assert.deepEqual(
      recipients({ ...none, ...people, notifyChangedBy: true, notifyMaintainer: true }),
      [],
      'no pattern',
    );
    assert.deepEqual(
      recipients({
        ...none,
        ...people,
        notifyChangedBy: true,
        notifyMaintainer: true,
        allowEmailsTo: '.*@example\\.org',
      }),
      ['carol@example.org'],
    );
    assert.deepEqual(
      recipients({ ...none, ...people, notifyChangedBy: true, notifyMaintainer: true, allowEmailsTo: 'example\\.org' }),
      [],
      'anchored: a part of the address does not do',
    );
    assert.deepEqual(
      recipients({
        ...none,
        ...people,
        notifyMaintainer: true,
        allowEmailsTo: '.*@(example\\.org|lists\\.example\\.net)',
      }),
      ['dan@lists.example.net'],
    );
  });

  it('reads addresses in "Name <address>" and bare forms', () => {
    assert.equal(addressOf('Carol Uploader <carol@example.org>'), 'carol@example.org');
    assert.equal(addressOf(' carol@example.org '), 'carol@example.org');
    assert.equal(addressOf('Carol Uploader'), null);
  });

  it('has a readable subject, the summary, the reason and absolute links, and the event as JSON', () => {
    const mail = composeMail({
      identity: 'ci',
      baseUrl: 'http://build.example.org:8066',
      event: installed,
      builds: [{ id: 3, architecture: 'amd64', result: 'SUCCESS' }],
    });
    assert.equal(mail.subject, '[debyard ci] INSTALLED hello-c 1.0~test12+1 (bookworm-test-unstable)');
    assert.match(mail.text, /^hello-c 1\.0~test12\+1 \(bookworm-test-unstable\) upload #7 installed\n/);
    assert.match(mail.text, /Upload: +http:\/\/build\.example\.org:8066\/uploads\/7\n/);
    assert.match(
      mail.text,
      /Changes: +http:\/\/build\.example\.org:8066\/uploads\/7\/hello-c_1\.0~test12\+1_source\.changes\n/,
    );
    assert.match(mail.text, /Build log amd64 \(SUCCESS\): http:\/\/build\.example\.org:8066\/logs\/3\n/);
    assert.doesNotMatch(mail.text, /Reason:/);
    assert.equal(mail.attachment.filename, 'event-42.json');
    assert.equal(JSON.parse(mail.attachment.content).payload.source, 'hello-c');

    const rejected = composeMail({
      identity: 'ci',
      baseUrl: 'http://h',
      event: {
        ...installed,
        type: 'REJECTED',
        summary: 'hello-c … rejected:\nsecond line',
        payload: { ...installed.payload, reason: 'the signature is bad' },
      },
      builds: [],
    });
    assert.match(rejected.text, /\nReason: the signature is bad\n/);
    assert.match(rejected.text, /^hello-c … rejected: second line\n/, 'the summary on one line');

    const config = composeMail({
      identity: 'ci',
      baseUrl: 'http://h',
      event: { ...installed, type: 'CONFIG_FAILED', summary: 'repository test failed its check', payload: {} },
      builds: [],
    });
    assert.equal(config.subject, '[debyard ci] CONFIG_FAILED repository test failed its check');
  });
});
