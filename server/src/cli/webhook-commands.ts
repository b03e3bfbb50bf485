import type { Command } from 'commander';
import { CliError, EXIT } from './api-client.js';
import { readSecret } from './commands.js';
import type { ClientFactory } from './config-commands.js';
import { print, table } from './output.js';

const WEBHOOK_FIELDS = 'id url secret eventTypes active createdAt createdBy lastAttemptAt lastOk lastResult';

interface WebhookRow {
  id: string;
  url: string;
  eventTypes: string[];
  active: boolean;
  createdBy: string;
  lastOk: boolean | null;
  lastResult: string | null;
}

/** `debyard webhook add|ls|remove|test|activate|deactivate`: outgoing webhooks (administrators). */
export function addWebhookCommands(program: Command, client: ClientFactory): void {
  const webhook = program
    .command('webhook')
    .description('outgoing webhooks: events POSTed as JSON, signed with HMAC-SHA256 (admin)');
  webhook
    .command('ls')
    .description('list the webhooks (the secret never shows)')
    .action(async (_opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { webhooks } = await api.request<{ webhooks: WebhookRow[] }>(`{ webhooks { ${WEBHOOK_FIELDS} } }`);
      print(json, webhooks, () =>
        webhooks.length
          ? table(
              ['ID', 'URL', 'EVENTS', 'ACTIVE', 'LAST DELIVERY'],
              webhooks.map((w) => [
                w.id,
                w.url,
                w.eventTypes.length ? w.eventTypes.join(',') : '(all)',
                w.active ? 'yes' : 'no',
                w.lastResult ? `${w.lastOk ? 'ok' : 'failed'}: ${w.lastResult}` : '-',
              ]),
            )
          : 'no webhooks (add one with debyard webhook add URL)',
      );
    });
  webhook
    .command('add <url>')
    .description('add a webhook; its secret is read from standard input (prompted on a terminal)')
    .option('--events <types>', 'comma-separated event types, e.g. INSTALLED,FAILED (default: every type)')
    .option('--inactive', 'add it switched off')
    .action(async (url: string, opts: { events?: string; inactive?: boolean }, cmd: Command) => {
      const { api, json } = client(cmd);
      const secret = await readSecret('Secret (16 to 256 characters, e.g. from openssl rand -hex 32): ', 'secret');
      const eventTypes = (opts.events ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const { addWebhook } = await api.request<{ addWebhook: WebhookRow }>(
        `mutation($i: WebhookInput!) { addWebhook(input: $i) { ${WEBHOOK_FIELDS} } }`,
        { i: { url, secret, eventTypes, active: !opts.inactive } },
      );
      print(
        json,
        addWebhook,
        () =>
          `webhook ${addWebhook.id}: ${addWebhook.url} gets ${addWebhook.eventTypes.length ? addWebhook.eventTypes.join(', ') : 'every event'}${addWebhook.active ? '' : ' (inactive)'}`,
      );
    });
  webhook
    .command('remove <id>')
    .description('remove a webhook; deliveries still queued for it are dropped')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { removeWebhook } = await api.request<{ removeWebhook: WebhookRow }>(
        `mutation($id: ID!) { removeWebhook(id: $id) { ${WEBHOOK_FIELDS} } }`,
        { id },
      );
      print(json, removeWebhook, () => `webhook ${id} (${removeWebhook.url}) removed`);
    });
  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const)
    webhook
      .command(`${name} <id>`)
      .description(active ? 'switch a webhook on' : 'switch a webhook off (what is queued for it is dropped)')
      .action(async (id: string, _opts, cmd: Command) => {
        const { api, json } = client(cmd);
        const { setWebhookActive } = await api.request<{ setWebhookActive: WebhookRow }>(
          `mutation($id: ID!, $a: Boolean!) { setWebhookActive(id: $id, active: $a) { ${WEBHOOK_FIELDS} } }`,
          { id, a: active },
        );
        print(json, setWebhookActive, () => `webhook ${id} is ${active ? 'active' : 'inactive'}`);
      });
  webhook
    .command('test <id>')
    .description('POST a signed PING to a webhook now; exits 1 unless it answers 2xx')
    .action(async (id: string, _opts, cmd: Command) => {
      const { api, json } = client(cmd);
      const { testWebhook } = await api.request<{
        testWebhook: { ok: boolean; status: number | null; message: string; ms: number };
      }>(`mutation($id: ID!) { testWebhook(id: $id) { ok status message ms } }`, { id });
      if (!testWebhook.ok && !json)
        throw new CliError(`webhook ${id}: ${testWebhook.message}`, EXIT.FAILED, 'WEBHOOK_TEST_FAILED');
      print(json, testWebhook, () => `webhook ${id}: ${testWebhook.message}`);
      if (!testWebhook.ok) process.exitCode = EXIT.FAILED;
    });
}
