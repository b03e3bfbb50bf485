import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QaMode } from '../distribution/distribution.entity.js';
import { UploadRejection } from './checks.js';
import { parseUploadOptions, topChangelogEntry } from './options.js';

/** A Changes field as the deb822 parser gives it: the header line, then the entries' lines. */
function changes(...items: string[]): string {
  return [
    '',
    'hello (1.0-2) unstable; urgency=medium',
    '.',
    ...items.map((i) => `  * ${i}`),
    '',
    'hello (1.0-1) unstable; urgency=medium',
    '.',
    '  * MINI_BUILDD_OPTION: lintian-mode=disabled',
    '  * MINI_BUILDD_OPTION: bogus=1',
  ].join('\n');
}

function rejects(text: string, code: string, message: RegExp): void {
  assert.throws(
    () => parseUploadOptions(text),
    (err: unknown) => err instanceof UploadRejection && err.code === code && message.test(err.message),
  );
}

describe('parseUploadOptions', () => {
  it('finds nothing in a changelog without options, and ignores older entries', () =>
    assert.deepEqual(parseUploadOptions(changes('New release.')), {}));

  it('reads every option, global and per architecture', () => {
    const options = parseUploadOptions(
      changes(
        'MINI_BUILDD_OPTION: lintian-mode=ignore',
        'MINI_BUILDD_OPTION: autopkgtest-mode = WarnFail',
        'MINI_BUILDD_OPTION: internal-apt-priority=500',
        'MINI_BUILDD_OPTION: auto-ports=bookworm-test-unstable, trixie-test-unstable',
        'MINI_BUILDD_OPTION: deb-build-options=nocheck parallel=2',
        'MINI_BUILDD_OPTION: deb-build-profiles=nodoc',
        'MINI_BUILDD_OPTION: add-depends=libfoo-dev (>= 1.2), bar | baz',
        'MINI_BUILDD_OPTION: lintian-mode[i386]=disabled',
        'DEBYARD_OPTION: deb-build-options[i386]=nocheck',
        'MINI_BUILDD_OPTION: internal-apt-priority[arm64]=-10',
      ),
    );
    assert.deepEqual(options, {
      lintianMode: QaMode.IGNORE,
      autopkgtestMode: QaMode.WARNFAIL,
      internalAptPriority: 500,
      autoPorts: ['bookworm-test-unstable', 'trixie-test-unstable'],
      debBuildOptions: 'nocheck parallel=2',
      debBuildProfiles: 'nodoc',
      addDepends: 'libfoo-dev (>= 1.2), bar | baz',
      perArch: {
        i386: { lintianMode: QaMode.DISABLED, debBuildOptions: 'nocheck' },
        arm64: { internalAptPriority: -10 },
      },
    });
  });

  it('reads options from an entry that is the only one', () =>
    assert.deepEqual(
      parseUploadOptions('\nhello (1.0) unstable; urgency=low\n.\n  * MINI_BUILDD_OPTION: lintian-mode=errfail'),
      { lintianMode: QaMode.ERRFAIL },
    ));

  it('rejects unknown options, naming them', () => {
    rejects(
      changes('MINI_BUILDD_OPTION: lintian-mod=ignore'),
      'OPTION_UNKNOWN',
      /unknown upload option "lintian-mod".*known options: lintian-mode/,
    );
    rejects(
      changes('MINI_BUILDD_OPTION: piuparts-mode=ignore'),
      'OPTION_UNKNOWN',
      /piuparts-mode.*does not run piuparts/,
    );
    rejects(
      changes('MINI_BUILDD_OPTION: ignore-lintian=true'),
      'OPTION_UNKNOWN',
      /deprecated: use lintian-mode=ignore/,
    );
  });

  it('rejects duplicates, also per architecture', () => {
    rejects(
      changes('MINI_BUILDD_OPTION: lintian-mode=ignore', 'MINI_BUILDD_OPTION: lintian-mode=errfail'),
      'OPTION_DUPLICATE',
      /lintian-mode is given twice/,
    );
    rejects(
      changes('MINI_BUILDD_OPTION: lintian-mode[i386]=ignore', 'DEBYARD_OPTION: lintian-mode[i386]=errfail'),
      'OPTION_DUPLICATE',
      /lintian-mode\[i386\] is given twice/,
    );
    assert.doesNotThrow(() =>
      parseUploadOptions(
        changes('MINI_BUILDD_OPTION: lintian-mode=ignore', 'MINI_BUILDD_OPTION: lintian-mode[i386]=errfail'),
      ),
    );
  });

  const invalid: [string, RegExp][] = [
    ['lintian-mode=sometimes', /invalid value "sometimes": use disabled, ignore, errfail or warnfail/],
    ['internal-apt-priority=high', /use a whole number/],
    ['internal-apt-priority=99999', /use a whole number/],
    ['auto-ports=Bookworm Test', /"Bookworm Test" is not a distribution name/],
    ['auto-ports[i386]=bookworm-test-unstable', /auto-ports has no per-architecture form/],
    ['deb-build-options=nocheck;rm -rf /', /space-separated words/],
    ['add-depends=foo,,bar', /package relations/],
    ['add-depends=$(evil)', /package relations/],
    ['lintian-mode[I 386]=ignore', /"I 386" is not an architecture name/],
    ['lintian-mode=', /it is empty/],
    ['lintian-mode', /has no value/],
  ];
  for (const [option, message] of invalid)
    it(`rejects ${option}`, () => rejects(changes(`MINI_BUILDD_OPTION: ${option}`), 'OPTION_INVALID', message));
});

describe('topChangelogEntry', () => {
  it('stops at the next entry', () =>
    assert.deepEqual(topChangelogEntry(changes('one')), [
      'hello (1.0-2) unstable; urgency=medium',
      '.',
      '  * one',
      '',
    ]));
});
