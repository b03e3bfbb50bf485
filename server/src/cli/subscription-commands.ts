import type { Command } from 'commander';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const SUBSCRIPTION_FIELDS = 'id username source distribution createdAt';

interface SubscriptionRow {
  id: string;
  username: string;
  source: string | null;
  distribution: string | null;
  createdAt: string;
}

/** `debyard subscribe|unsubscribe|subscriptions`: mail about packages to the signed-in user. */
export function addSubscriptionCommands(program: Command, client: ClientFactory): void {
  program
    .command('subscriptions')
    .description('list your notification subscriptions (an admin may name a user)')
    .option('--user <name>', 'another user’s (admin)')
    .action(async (opts: { user?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { subscriptions } = await api.request<{ subscriptions: SubscriptionRow[] }>(
        `query($u: String) { subscriptions(username: $u) { ${SUBSCRIPTION_FIELDS} } }`,
        { u: opts.user ?? null },
      );
      print(json, subscriptions, () =>
        subscriptions.length
          ? table(
              ['ID', 'USER', 'SOURCE', 'DISTRIBUTION', 'SINCE'],
              subscriptions.map((s) => [s.id, s.username, s.source ?? '(all)', s.distribution ?? '(all)', s.createdAt]),
            )
          : 'no subscriptions (add one with debyard subscribe --source S --distribution D)',
      );
    });
  program
    .command('subscribe')
    .description('get mail about a source package and/or distribution (left out: all) at your e-mail address')
    .option('--source <source>', 'a source package (default: all)')
    .option('--distribution <dist>', 'a distribution, e.g. bookworm-test-unstable (default: all)')
    .option('--user <name>', 'subscribe another user (admin)')
    .action(async (opts: { source?: string; distribution?: string; user?: string }, cmd: Command) => {
      const { api, json } = client(cmd);
      const { subscribe } = await api.request<{ subscribe: SubscriptionRow }>(
        `mutation($s: String, $d: String, $u: String) { subscribe(source: $s, distribution: $d, username: $u) { ${SUBSCRIPTION_FIELDS} } }`,
        { s: opts.source ?? null, d: opts.distribution ?? null, u: opts.user ?? null },
      );
      print(
        json,
        subscribe,
        () =>
          `subscription ${subscribe.id}: ${subscribe.username} hears about ${subscribe.source ?? 'every source'} in ${subscribe.distribution ?? 'every distribution'}`,
      );
    });
  program
    .command('unsubscribe <id>')
    .description('end a subscription (yours; an admin’s any)')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { unsubscribe } = await api.request<{ unsubscribe: SubscriptionRow }>(
        `mutation($id: ID!) { unsubscribe(id: $id) { ${SUBSCRIPTION_FIELDS} } }`,
        { id },
      );
      print(json, unsubscribe, () => `subscription ${id} ended`);
    });
}
