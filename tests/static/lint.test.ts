import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { REPO } from '../support/daemon.js';

const bin = (name: string) => `${REPO}/node_modules/.bin/${name}`;

describe('code style', () => {
  it('passes ESLint (npx eslint . to see, --fix to mend)', async () => {
    const r = await execa(bin('eslint'), ['.', '--max-warnings', '0'], { cwd: REPO, reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  });

  it('is formatted with Prettier (npm run format to mend)', async () => {
    const r = await execa(bin('prettier'), ['--check', '.'], { cwd: REPO, reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  });
});
