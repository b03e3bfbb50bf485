import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldError } from '../lifecycle/config-kind.js';
import { mergeSmtpUrl, parseSmtpUrl, redactSmtpUrl } from './smtp-url.js';

describe('smtpUrl', () => {
  it('takes smtp:// and smtps:// with optional credentials and port; empty means no mail', () => {
    assert.equal(parseSmtpUrl('smtpUrl', ''), '');
    assert.equal(parseSmtpUrl('smtpUrl', ' smtp://mail.example.org:25/ '), 'smtp://mail.example.org:25');
    assert.equal(
      parseSmtpUrl('smtpUrl', 'smtps://u%40x:p%2Fw@mail.example.org'),
      'smtps://u%40x:p%2Fw@mail.example.org',
    );
    assert.equal(parseSmtpUrl('smtpUrl', 'smtp://user@[::1]:2525'), 'smtp://user@[::1]:2525');
  });

  it('refuses anything else with a message that says what is wrong', () => {
    const refused = (v: unknown, message: RegExp) =>
      assert.throws(
        () => parseSmtpUrl('smtpUrl', v),
        (err: unknown) => err instanceof FieldError && err.field === 'smtpUrl' && message.test(err.message),
      );
    refused('http://mail.example.org', /scheme must be smtp or smtps, not "http"/);
    refused('mail.example.org:25', /scheme must be smtp or smtps|not a URL/);
    refused('smtp://', /not a URL|names no host/);
    refused('smtp://mail.example.org/inbox', /no path, query or fragment/);
    refused('smtp://:secret@mail.example.org', /a password needs a user name/);
    refused(25, /expected a URL as text/);
  });

  it('never shows the password, not even in its error messages', () => {
    assert.equal(redactSmtpUrl('smtp://user:s3cret@mail.example.org:25'), 'smtp://user:***@mail.example.org:25');
    assert.equal(redactSmtpUrl('smtps://mail.example.org'), 'smtps://mail.example.org');
    assert.equal(redactSmtpUrl('smtp://user@mail.example.org'), 'smtp://user@mail.example.org');
    assert.throws(
      () => parseSmtpUrl('smtpUrl', 'smtp://user:s3cret@mail example.org'),
      (err: Error) => !err.message.includes('s3cret'),
    );
  });

  it('keeps the stored password when the redacted URL comes back, and only for the same server and user', () => {
    const stored = 'smtp://user:s3cret@mail.example.org:25';
    assert.equal(mergeSmtpUrl(stored, 'smtp://user:***@mail.example.org:25'), stored);
    assert.equal(mergeSmtpUrl(stored, 'smtp://user:new@mail.example.org:25'), 'smtp://user:new@mail.example.org:25');
    assert.equal(mergeSmtpUrl(stored, ''), '');
    assert.throws(() => mergeSmtpUrl(stored, 'smtp://user:***@other.example.org:25'), /give the password/);
    assert.throws(() => mergeSmtpUrl('', 'smtp://user:***@mail.example.org'), /give the password/);
  });
});
