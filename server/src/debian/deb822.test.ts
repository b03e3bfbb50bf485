import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Deb822Error, Paragraph, formatDeb822, parseDeb822, parseSingleParagraph } from './deb822.js';

function syntaxError(line: number | undefined, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof Deb822Error, `not a Deb822Error: ${String(err)}`);
    assert.equal(err.code, 'DEB822_SYNTAX');
    assert.equal(err.line, line);
    assert.match(err.message, pattern);
    return true;
  };
}

const CHANGES = `Format: 1.8
Date: Mon, 01 Jan 2024 00:00:00 +0000
Source: hello
Binary: hello
Architecture: source amd64
Version: 1.0-1
Distribution: bookworm-test-unstable
Description:
 hello - says hello
Changes:
 hello (1.0-1) unstable; urgency=medium
 .
   * Initial release.
Checksums-Sha256:
 ${'a'.repeat(64)} 1234 hello_1.0-1.dsc
 ${'b'.repeat(64)} 5678 hello_1.0-1_amd64.deb
Files:
 0123456789abcdef0123456789abcdef 1234 devel optional hello_1.0-1.dsc
`;

describe('parseDeb822', () => {
  it('parses a .changes: order, case-insensitive names, multi-line values', () => {
    const p = parseSingleParagraph(CHANGES);
    assert.deepEqual(p.names().slice(0, 3), ['Format', 'Date', 'Source']);
    assert.equal(p.get('source'), 'hello');
    assert.equal(p.get('SOURCE'), 'hello');
    assert.equal(p.get('Architecture'), 'source amd64');
    assert.equal(p.get('Changes'), '\nhello (1.0-1) unstable; urgency=medium\n\n  * Initial release.');
    assert.deepEqual(p.lines('Checksums-Sha256'), [
      `${'a'.repeat(64)} 1234 hello_1.0-1.dsc`,
      `${'b'.repeat(64)} 5678 hello_1.0-1_amd64.deb`,
    ]);
    assert.equal(p.lineOf('Files'), 17);
    assert.equal(p.get('Missing'), undefined);
    assert.deepEqual(p.lines('Missing'), []);
  });

  it('returns [] for empty input and input of only comments and blank lines', () => {
    assert.deepEqual(parseDeb822(''), []);
    assert.deepEqual(parseDeb822('\n\n  \n\t\n'), []);
    assert.deepEqual(parseDeb822('# nothing here\n\n# still nothing\n'), []);
  });

  it('splits paragraphs on empty and whitespace-only lines, and accepts a missing final newline', () => {
    const ps = parseDeb822('Package: a\nVersion: 1\n\n\nPackage: b\n \t\nPackage: c');
    assert.deepEqual(
      ps.map((p) => p.get('Package')),
      ['a', 'b', 'c'],
    );
  });

  it('skips comment lines, also between continuation lines', () => {
    const [p] = parseDeb822('# header\nSource: x\nBuild-Depends: a,\n# b,\n c\n');
    assert.equal(p!.get('Build-Depends'), 'a,\nc');
  });

  it('trims the first line, strips one leading blank and trailing blanks of continuation lines', () => {
    const [p] = parseDeb822('A:   spaced   \nB: x\n  indented  \n\tTabbed\n .\n');
    assert.equal(p!.get('A'), 'spaced');
    assert.equal(p!.get('B'), 'x\n indented\nTabbed\n');
  });

  it('keeps an empty value and a field name with odd but legal characters', () => {
    const [p] = parseDeb822('Empty:\nX-Odd.Name_1+2!: v\nLast:x\n');
    assert.equal(p!.get('Empty'), '');
    assert.equal(p!.get('x-odd.name_1+2!'), 'v');
    assert.equal(p!.get('Last'), 'x');
  });

  it('rejects duplicate fields, naming both lines, case-insensitively', () => {
    assert.throws(
      () => parseDeb822('Source: a\nVersion: 1\nsource: b\n'),
      syntaxError(3, /duplicate field source \(first at line 1\)/),
    );
    // the same name in different paragraphs is fine
    assert.equal(parseDeb822('Source: a\n\nSource: b\n').length, 2);
  });

  it('rejects a line that is neither field nor continuation, with its line number', () => {
    assert.throws(() => parseDeb822('Source: a\nthis is not a field\n'), syntaxError(2, /expected "Field: value"/));
    assert.throws(() => parseDeb822('Source: a\n: no name\n'), syntaxError(2, /expected/));
    assert.throws(() => parseDeb822('-----BEGIN PGP SIGNED MESSAGE-----\n'), syntaxError(1, /expected/));
    assert.throws(() => parseDeb822('-Field: x\n'), syntaxError(1, /expected/));
    assert.throws(() => parseDeb822('Bad Name: x\n'), syntaxError(1, /expected/));
  });

  it('rejects continuation lines outside a field', () => {
    assert.throws(() => parseDeb822(' leading\n'), syntaxError(1, /continuation line/));
    assert.throws(() => parseDeb822('A: 1\n\n continued?\n'), syntaxError(3, /continuation line/));
  });

  it('rejects CRLF and CR line endings rather than normalising them', () => {
    assert.throws(() => parseDeb822('Source: a\r\nVersion: 1\r\n'), syntaxError(1, /CRLF/));
    assert.throws(() => parseDeb822('Source: a\nVersion: 1\rFoo: x\n'), syntaxError(2, /carriage return/));
  });

  it('rejects NUL and other control characters, and a byte order mark', () => {
    assert.throws(() => parseDeb822('Source: a\nVersion: 1\0\n'), syntaxError(2, /U\+0000 \(NUL\)/));
    assert.throws(() => parseDeb822('Source: \x1b[31mred\n'), syntaxError(1, /U\+001B/));
    assert.throws(() => parseDeb822('\ufeffSource: a\n'), syntaxError(1, /byte order mark/));
  });

  it('names the source in messages', () => {
    assert.throws(() => parseDeb822('oops\n', { source: 'x.changes' }), /^Deb822Error: x\.changes:1: /);
  });

  it('decodes bytes as strict UTF-8', () => {
    const [p] = parseDeb822(new TextEncoder().encode('Maintainer: Jörg <j@example.org>\n'));
    assert.equal(p!.get('Maintainer'), 'Jörg <j@example.org>');
    assert.throws(
      () => parseDeb822(Uint8Array.from([0x41, 0x3a, 0x20, 0xff, 0x0a]), { source: 'bad.dsc' }),
      (err: unknown) => err instanceof Deb822Error && err.code === 'DEB822_ENCODING' && /bad\.dsc/.test(err.message),
    );
  });

  it('survives hostile input: huge lines, many lines, long names', () => {
    const huge = 'A: ' + 'x'.repeat(8 * 1024 * 1024) + '\n';
    const started = Date.now();
    assert.equal(parseDeb822(huge)[0]!.get('A')!.length, 8 * 1024 * 1024);
    assert.throws(() => parseDeb822('x'.repeat(4 * 1024 * 1024)), syntaxError(1, /…"$/));
    assert.throws(() => parseDeb822('A'.repeat(4 * 1024 * 1024) + ' : x'), syntaxError(1, /expected/));
    const many = Array.from({ length: 100_000 }, (_, i) => `F${i}: ${i}`).join('\n');
    assert.equal(parseDeb822(many)[0]!.size, 100_000);
    assert.ok(Date.now() - started < 5000, 'hostile inputs must parse in linear time');
  });
});

describe('parseSingleParagraph', () => {
  it('requires exactly one paragraph', () => {
    assert.throws(() => parseSingleParagraph(''), syntaxError(undefined, /no fields/));
    assert.throws(() => parseSingleParagraph('A: 1\n\nB: 2\n'), syntaxError(3, /expected one paragraph, found 2/));
  });
});

describe('Paragraph', () => {
  it('sets fields keeping place and spelling, and refuses duplicates from records', () => {
    const p = Paragraph.from({ Origin: 'Debian', Codename: 'bookworm' });
    p.set('origin', 'Ubuntu').set('Suite', 'stable');
    assert.deepEqual(p.toObject(), { Origin: 'Ubuntu', Codename: 'bookworm', Suite: 'stable' });
    assert.equal(p.delete('CODENAME'), true);
    assert.deepEqual(
      [...p],
      [
        ['Origin', 'Ubuntu'],
        ['Suite', 'stable'],
      ],
    );
    assert.throws(() => Paragraph.from({ A: '1', a: '2' }), /duplicate field a/);
    assert.throws(() => Paragraph.from({ 'Bad:Name': '1' }), /invalid field name/);
  });
});

describe('formatDeb822', () => {
  it('round-trips a parsed .changes byte for byte', () => {
    assert.equal(formatDeb822([parseSingleParagraph(CHANGES)]), CHANGES);
  });

  it('writes records, empty lines as " .", and separates paragraphs', () => {
    const text = formatDeb822([
      { Package: 'a', Description: 'short\nlong line\n\nmore' },
      {},
      { Package: 'b', Files: '\nx 1 f' },
    ]);
    assert.equal(text, 'Package: a\nDescription: short\n long line\n .\n more\n\nPackage: b\nFiles:\n x 1 f\n');
    assert.deepEqual(
      parseDeb822(text).map((p) => p.toObject()),
      [
        { Package: 'a', Description: 'short\nlong line\n\nmore' },
        { Package: 'b', Files: '\nx 1 f' },
      ],
    );
    assert.equal(formatDeb822([]), '');
  });

  it('refuses what it cannot write', () => {
    assert.throws(() => formatDeb822([{ 'Two words': 'x' }]), /invalid field name/);
    assert.throws(() => formatDeb822([{ A: 'x\r\ny' }]), /CR or control/);
    assert.throws(() => formatDeb822([{ A: 'x\n.' }]), /"\."/);
  });
});
