import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { guessCodeversion } from './codeversion.js';

describe('guessCodeversion', () => {
  const table: [origin: string, version: string | undefined, codename: string, expected: string][] = [
    ['Debian', '3.1r8', 'sarge', '31'],
    ['Debian', '4.0r9', 'etch', '40'],
    ['Debian', '6.0.6', 'squeeze', '60'],
    ['Debian', '7.1', 'wheezy', '7'],
    ['Debian', '12.5', 'bookworm', '12'],
    ['Debian', '12', 'bookworm-security', '12'],
    ['Debian', '13.7', 'trixie', '13'],
    ['Ubuntu', '12.10', 'quantal', '1210'],
    ['Ubuntu', '24.04', 'noble', '2404'],
    ['Ubuntu', '22.04.5', 'jammy', '2204'],
    ['Debian', undefined, 'sid', '~SID'],
    ['Debian', '', 'trixie', '~TRIXIE'],
    ['Debian', 'n/a', 'experimental', '~EXPERIMENTAL'],
    ['PureOS', '10.0', 'amber', '100'],
  ];
  for (const [origin, version, codename, expected] of table) {
    it(`${origin} ${codename} ${version ?? '(no Version)'} → ${expected}`, () => {
      assert.equal(guessCodeversion(origin, version, codename), expected);
    });
  }
});
