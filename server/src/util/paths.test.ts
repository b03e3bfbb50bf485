import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsafePathError, checkFileName, containedPath } from './paths.js';

describe('checkFileName', () => {
  for (const ok of ['hello_1.0-1_amd64.changes', 'a', 'x+y~z.tar.xz', '0ad_0.0.26.orig.tar.xz'])
    it(`accepts ${ok}`, () => assert.equal(checkFileName(ok), ok));

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['../x', /directory separator/],
    ['/etc/passwd', /directory separator/],
    ['a\\b', /directory separator/],
    ['.hidden', /not a safe file name/],
    ['-rf', /not a safe file name/],
    ['a b', /not a safe file name/],
    ['a\nb', /"a\\x0ab" is not a safe file name/],
    ['a\0b', /not a safe file name/],
    ['x'.repeat(256), /longer than 255/],
  ];
  for (const [name, message] of bad)
    it(`refuses ${JSON.stringify(name).slice(0, 40)}`, () =>
      assert.throws(
        () => checkFileName(name),
        (e: unknown) => e instanceof UnsafePathError && message.test(e.message),
      ));
});

describe('containedPath', () => {
  it('resolves inside the root', () => {
    assert.equal(containedPath('/srv/in', 'a/b.deb'), '/srv/in/a/b.deb');
    assert.equal(containedPath('/srv/in', '/a'), '/srv/in/a');
  });
  for (const escape of ['..', '../x', 'a/../../x', '/../etc/passwd'])
    it(`refuses ${escape}`, () => assert.throws(() => containedPath('/srv/in', escape), /points outside \/srv\/in/));
  it('refuses NUL bytes', () => assert.throws(() => containedPath('/srv/in', 'a\0'), /NUL/));
});
