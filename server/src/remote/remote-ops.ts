import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import type { KindContext } from '../lifecycle/config-kind.js';
import type { Logger } from '../log.js';
import { readArmoredKeys } from '../pgp/verify.js';
import type { Remote } from './remote.entity.js';
import {
  RemoteClient,
  RemoteError,
  handshakeChallenge,
  normalizeRemoteUrl,
  verifyHandshakeReply,
  type InstanceStatus,
} from './wire.js';

const WAKE_TIMEOUT_MS = 60_000;

/** What a down remote says that the wake command may help with. */
function isDown(err: unknown): err is RemoteError {
  return err instanceof RemoteError && (err.code === 'REMOTE_UNREACHABLE' || err.code === 'REMOTE_UNAVAILABLE');
}

/** Runs the remote's wake command once (argv, never a shell); its failure is logged and returned. */
export async function runWakeCommand(r: Remote, logger: Logger): Promise<string | null> {
  const [file, ...args] = r.wakeCommand;
  if (!file) return null;
  const result = await execa(file, args, { reject: false, timeout: WAKE_TIMEOUT_MS, all: true });
  const failed = result.failed
    ? (String(result.all ?? '').trim() || result.shortMessage || 'failed').slice(0, 300)
    : null;
  logger.info({ remote: r.url, command: r.wakeCommand, exitCode: result.exitCode, failed }, 'ran the wake command');
  return failed;
}

/**
 * Its `status`; when it does not answer and has a wake command, runs that up to `wakeAttempts` times,
 * waiting `wakeIntervalSeconds` after each, asking again each time (mini-buildd's wake).
 */
export async function statusWaking(
  r: Remote,
  logger: Logger,
  client = new RemoteClient(r.url),
): Promise<InstanceStatus> {
  let lastWake: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.status();
    } catch (err) {
      if (!isDown(err) || !r.wakeCommand.length) throw err;
      if (attempt >= r.wakeAttempts)
        throw new RemoteError(
          err.code,
          `${err.message} (after ${attempt} wake attempt${attempt === 1 ? '' : 's'} with \`${r.wakeCommand.join(' ')}\`${lastWake ? `, which failed: ${lastWake}` : ''})`,
          { cause: err },
        );
      lastWake = await runWakeCommand(r, logger);
      await delay(r.wakeIntervalSeconds * 1000);
    }
  }
}

async function fetchKey(client: RemoteClient): Promise<{ armored: string; fingerprint: string }> {
  const armored = await client.pubKey();
  const [key] = await readArmoredKeys(armored, `${client.url}'s pub_key`);
  if (!key) throw new RemoteError('NOT_AN_INSTANCE', `${client.url}'s pub_key holds no key`);
  return { armored: key.armor(), fingerprint: key.getFingerprint().toUpperCase() };
}

function mismatch(r: Remote, now: string): RemoteError {
  return new RemoteError(
    'REMOTE_KEY_MISMATCH',
    `${r.url} has the key ${now} now, we hold ${r.fingerprint}: if it was given a new key, remove the remote and add it again`,
  );
}

/** Prepare: fetches its status and its key (kept from then on: a different key later is a mismatch). */
export async function prepareRemote(r: Remote, ctx: KindContext): Promise<void> {
  const client = new RemoteClient(r.url);
  r.recordStatus(await statusWaking(r, ctx.logger, client));
  const key = await fetchKey(client);
  if (r.fingerprint && r.fingerprint !== key.fingerprint) throw mismatch(r, key.fingerprint);
  r.recordKey(key.armored, key.fingerprint);
}

/**
 * Check (mini-buildd §5.3): its status (waking it if need be), its key unchanged, a signed handshake
 * both ways, our URL among its remotes, and its engine running.
 */
export async function checkRemote(r: Remote, ctx: KindContext): Promise<void> {
  const client = new RemoteClient(r.url);
  const status = await statusWaking(r, ctx.logger, client);
  r.recordStatus(status);
  const key = await fetchKey(client);
  if (key.fingerprint !== r.fingerprint) throw mismatch(r, key.fingerprint);
  const [held] = await readArmoredKeys(r.armored, `the key held for ${r.url}`);
  const challenge = handshakeChallenge();
  const reply = await client.handshake(await ctx.keys.signCleartext(challenge));
  await verifyHandshakeReply(reply, challenge, held!, r.url);
  const us = normalizeRemoteUrl(ctx.instanceUrl?.() ?? '');
  const listed = status.remotes.map((u) => {
    try {
      return normalizeRemoteUrl(u);
    } catch {
      return u;
    }
  });
  if (!listed.includes(us))
    throw new RemoteError(
      'REMOTE_DOES_NOT_LIST_US',
      `${r.url} (${status.identity}) does not list us (${us}) among its active remotes (it lists ${listed.join(', ') || 'none'}): add and activate us there (\`debyard remote add ${us}\` on ${status.identity})`,
    );
  if (status.load < 0)
    throw new RemoteError(
      'REMOTE_STOPPED',
      `${r.url} (${status.identity}) has its engine stopped: start it there (\`debyard engine start\`)`,
    );
}
