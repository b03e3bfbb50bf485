import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lookupUser } from './privileges.js';
import { createThrowawayUser, type ThrowawayUser } from './throwaway-user.js';

const moduleUrl = new URL('./privileges.js', import.meta.url).href;
const logUrl = new URL('../log.js', import.meta.url).href;
const isRoot = process.getuid?.() === 0;

/** dropPrivileges() changes the whole process for good, so each case runs in a child. */
const CHILD = `
  import { dropPrivileges } from ${JSON.stringify(moduleUrl)};
  import { createLogger } from ${JSON.stringify(logUrl)};
  const [user, dataDir] = process.argv.slice(1);
  const report = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  try {
    dropPrivileges({ user, dataDir, logger: createLogger('silent') });
    let regained = true;
    try { process.setuid(0); } catch { regained = false; }
    report({ ok: true, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), regained,
      home: process.env.HOME, user: process.env.USER, logname: process.env.LOGNAME, cwd: process.cwd() });
  } catch (err) {
    report({ ok: false, name: err.name, code: err.code, message: err.message });
  }
`;

interface Report {
  ok: boolean;
  code?: string;
  name?: string;
  message?: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  regained?: boolean;
  home?: string;
  user?: string;
  logname?: string;
  cwd?: string;
}

async function runChild(user: string, dataDir: string, as?: { uid: number; gid: number }): Promise<Report> {
  const result = await execa('node', ['--input-type=module', '-e', CHILD, user, dataDir], {
    reject: false,
    cwd: '/',
    ...as,
  });
  const line = String(result.stdout).trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `no report from the child: ${result.stdout}\n${result.stderr}`);
  return JSON.parse(line) as Report;
}

describe('dropPrivileges', () => {
  let user: ThrowawayUser;
  let base: string;

  before(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-priv-'));
    fs.chmodSync(base, 0o755);
    if (isRoot) user = await createThrowawayUser('debyard-tpriv');
  });

  after(async () => {
    fs.rmSync(base, { recursive: true, force: true });
    if (isRoot) await user.remove();
  });

  it(
    'switches to the user with its supplementary groups and hands it a new data directory',
    { skip: !isRoot && 'not root' },
    async () => {
      const dataDir = path.join(base, 'new', 'debyard');
      const r = await runChild(user.name, dataDir);
      assert.ok(r.ok, r.message);
      assert.equal(r.uid, user.uid);
      assert.equal(r.gid, user.gid);
      const extraGid = Number((await execa('getent', ['group', user.extraGroup])).stdout.split(':')[2]);
      assert.ok(r.groups!.includes(extraGid), `supplementary group ${user.extraGroup} lost: ${r.groups}`);
      assert.ok(!r.groups!.includes(0), 'still in group root');
      assert.equal(r.regained, false);
      assert.deepEqual([r.home, r.user, r.logname, r.cwd], ['/nonexistent', user.name, user.name, dataDir]);
      const stat = fs.statSync(dataDir);
      assert.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [user.uid, user.gid, '750']);
      assert.equal(fs.statSync(path.dirname(dataDir)).uid, 0, 'a created parent must stay root-owned');
    },
  );

  it('takes over a root-owned data directory but not its contents', { skip: !isRoot && 'not root' }, async () => {
    const dataDir = path.join(base, 'rootowned');
    fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true, mode: 0o755 });
    const r = await runChild(user.name, dataDir);
    assert.ok(r.ok, r.message);
    assert.equal(fs.statSync(dataDir).uid, user.uid);
    assert.equal((fs.statSync(dataDir).mode & 0o777).toString(8), '750');
    assert.equal(fs.statSync(path.join(dataDir, 'keys')).uid, 0);
  });

  it('refuses a data directory that belongs to another user', { skip: !isRoot && 'not root' }, async () => {
    const dataDir = path.join(base, 'foreign');
    fs.mkdirSync(dataDir);
    fs.chownSync(dataDir, 54321, 54321);
    const r = await runChild(user.name, dataDir);
    assert.equal(r.ok, false);
    assert.equal(r.name, 'PrivilegeError');
    assert.equal(r.code, 'DATA_DIR_FOREIGN_OWNER');
    assert.equal(
      r.message,
      `data directory ${dataDir} belongs to uid 54321, not to "${user.name}": chown it to ${user.name}, or choose another one with --data-dir`,
    );
    assert.equal(fs.statSync(dataDir).uid, 54321);
  });

  it('tells how to create a missing system user', { skip: !isRoot && 'not root' }, async () => {
    const r = await runChild('debyard-tnobody', path.join(base, 'nouser'));
    assert.equal(r.code, 'USER_NOT_FOUND');
    assert.equal(
      r.message,
      'system user "debyard-tnobody" does not exist: run `npm start` once as root (scripts/setup.sh creates it)',
    );
    assert.ok(!fs.existsSync(path.join(base, 'nouser')), 'created a data directory for nobody');
  });

  it('refuses a data directory that is a file', { skip: !isRoot && 'not root' }, async () => {
    const dataDir = path.join(base, 'afile');
    fs.writeFileSync(dataDir, '');
    const r = await runChild(user.name, dataDir);
    assert.equal(r.code, 'DATA_DIR_NOT_DIRECTORY');
  });

  it('notices a data directory the user cannot reach', { skip: !isRoot && 'not root' }, async () => {
    const closed = path.join(base, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    const r = await runChild(user.name, path.join(closed, 'debyard'));
    assert.equal(r.code, 'DATA_DIR_NOT_WRITABLE');
    assert.match(r.message!, new RegExp(`is not writable by user "${user.name}"`));
  });

  it('as an ordinary user only checks the data directory', async () => {
    const as = isRoot ? { uid: user.uid, gid: user.gid } : undefined;
    const me = isRoot ? user.name : os.userInfo().username;
    const own = path.join(base, 'own');
    fs.mkdirSync(own);
    if (as) fs.chownSync(own, as.uid, as.gid);
    const ok = await runChild('debyard', path.join(own, 'data'), as);
    assert.ok(ok.ok, ok.message);
    assert.equal(ok.uid, process.getuid!() === 0 ? user.uid : process.getuid!());
    assert.ok(fs.statSync(path.join(own, 'data')).isDirectory());

    if (!isRoot) return; // a directory we cannot write needs another owner
    const readOnly = path.join(base, 'readonly');
    fs.mkdirSync(readOnly, { mode: 0o755 });
    const denied = await runChild('debyard', readOnly, as);
    assert.equal(denied.code, 'DATA_DIR_NOT_WRITABLE');
    assert.equal(
      denied.message,
      `data directory ${readOnly} is not writable by user "${me}" (uid ${user.uid}): fix the owner and mode of it and its parents, or choose another one with --data-dir`,
    );
  });
});

describe('lookupUser', () => {
  it('finds root and rejects names getent would misread', () => {
    assert.deepEqual(lookupUser('root'), {
      name: 'root',
      uid: 0,
      gid: 0,
      home: '/root',
      shell: lookupUser('root')!.shell,
    });
    assert.equal(lookupUser('debyard-tnobody'), undefined);
    assert.equal(lookupUser('0'), undefined);
    assert.equal(lookupUser('-s'), undefined);
  });
});
