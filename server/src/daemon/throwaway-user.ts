import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { lookupUser } from './privileges.js';

/** A system user (and a supplementary group) that a test creates as root and removes afterwards. */
export interface ThrowawayUser {
  name: string;
  uid: number;
  gid: number;
  /** A supplementary group the user is a member of, standing in for sbuild. */
  extraGroup: string;
  remove(): Promise<void>;
}

/**
 * Creates the user `name` (which must start with "debyard-t") for a test that needs to act as an
 * unprivileged user while running as root. A leftover from a killed run is replaced.
 */
export async function createThrowawayUser(name: string): Promise<ThrowawayUser> {
  if (!/^debyard-t[a-z0-9-]*$/.test(name) || name.length > 28) throw new Error(`not a throw-away user name: ${name}`);
  const extraGroup = `${name}-g`;
  await removeUser(name, extraGroup);
  await shadowTool('groupadd', ['--system', extraGroup]);
  await shadowTool('useradd', [
    '--system',
    '--user-group',
    '--groups',
    extraGroup,
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    name,
  ]);
  const entry = lookupUser(name);
  if (!entry) throw new Error(`useradd did not create ${name}`);
  return { name, uid: entry.uid, gid: entry.gid, extraGroup, remove: () => removeUser(name, extraGroup) };
}

async function removeUser(name: string, extraGroup: string): Promise<void> {
  if (lookupUser(name)) await shadowTool('userdel', [name]);
  const group = await execa('getent', ['group', extraGroup], { reject: false });
  if (group.exitCode === 0) await shadowTool('groupdel', [extraGroup]);
}

/** The shadow tools fail instead of waiting when another one holds /etc/passwd's lock. */
async function shadowTool(tool: string, args: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const result = await execa(tool, args, { reject: false, all: true });
    if (result.exitCode === 0) return;
    if (attempt >= 10 || !/lock|try again/i.test(result.all ?? ''))
      throw new Error(`${tool} ${args.join(' ')}: ${result.all}`);
    await sleep(200 * attempt);
  }
}
