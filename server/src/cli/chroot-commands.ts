import type { Command } from 'commander';
import { type ApiClient, CliError, EXIT } from './api-client.js';
import type { ClientFactory } from './config-commands.js';

const POLL_MS = 400;

/** A piece of the chroot's log; status 0 when the request or its body failed (the next poll asks again). */
async function fetchLog(api: ApiClient, key: string, range: string): Promise<{ status: number; body: Buffer }> {
  try {
    const res = await fetch(`${api.url}/logs/chroots/${encodeURIComponent(key)}`, { headers: { range } });
    // The body too: a connection the daemon closes mid-body ("terminated") must not end the command.
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch {
    return { status: 0, body: Buffer.alloc(0) };
  }
}

/** The header line of the chroot's current log (`== creating bookworm-amd64 …`), or null. */
async function header(api: ApiClient, key: string): Promise<string | null> {
  const { status, body } = await fetchLog(api, key, 'bytes=0-1023');
  if (status !== 200 && status !== 206) return null;
  return body.toString('utf8').split('\n')[0] ?? null;
}

/** Writes the log from `offset` to stderr; returns the new offset. */
async function printFrom(api: ApiClient, key: string, offset: number): Promise<number> {
  const { status, body } = await fetchLog(api, key, `bytes=${offset}-`);
  const chunk = status === 206 ? body : status === 200 ? body.subarray(offset) : Buffer.alloc(0);
  if (chunk.length) process.stderr.write(chunk);
  return offset + chunk.length;
}

export interface ChrootCommands {
  command: Command;
  /**
   * Runs `work` (a lifecycle action on chroot `key`) and meanwhile prints the chroot's log to stderr
   * once the action has started a new one (a new header line), so creating a chroot is not a silent minute.
   */
  followDuring<T>(api: ApiClient, key: string, work: () => Promise<T>): Promise<T>;
}

/** `debyard chroot …`: the chroot kind's commands (added by the caller) plus `chroot log`. */
export function addChrootCommands(program: Command, client: ClientFactory): ChrootCommands {
  const command = program
    .command('chroot')
    .description('build chroots (the same as `debyard config chroot`), e.g. `debyard chroot prepare bookworm-amd64`');

  command
    .command('log <key>')
    .description('print the log of the chroot’s last create, update or remove; --follow waits while it runs')
    .option('--follow', 'keep printing until the chroot is idle')
    .action(async (key: string, opts: { follow?: boolean }, cmd: Command) => {
      const { api } = client(cmd);
      if (!opts.follow) {
        const { status, body } = await fetchLog(api, key, 'bytes=0-');
        if (status === 404) throw new CliError(`chroot ${key} has no log yet`, EXIT.FAILED, 'NOT_FOUND');
        if (status !== 200 && status !== 206)
          throw new CliError(`cannot read the log of chroot ${key} (HTTP ${status})`, EXIT.FAILED);
        process.stdout.write(body);
        return;
      }
      let offset = 0;
      let done = false;
      while (!done)
        await api.subscribe<{ chrootLog: { offset: number; text: string; done: boolean } }>(
          'subscription($key: String!, $offset: Float) { chrootLog(key: $key, offset: $offset) { offset text done } }',
          { key, offset },
          ({ chrootLog }) => {
            if (chrootLog.offset === offset) {
              process.stdout.write(chrootLog.text);
              offset += Buffer.byteLength(chrootLog.text);
            }
            if (chrootLog.done) done = true;
          },
        );
    });

  return {
    command,
    async followDuring<T>(api: ApiClient, key: string, work: () => Promise<T>): Promise<T> {
      const before = await header(api, key);
      let running = true;
      let following = false;
      let offset = 0;
      const follow = (async () => {
        while (running) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          if (!following) {
            const now = await header(api, key);
            following = now !== null && now !== before;
          }
          if (following) offset = await printFrom(api, key, offset);
        }
      })();
      try {
        return await work();
      } finally {
        running = false;
        await follow;
        if (!following && (await header(api, key)) !== before) following = true;
        if (following) await printFrom(api, key, offset);
      }
    },
  };
}
