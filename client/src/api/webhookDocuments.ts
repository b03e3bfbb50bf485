import { gql } from '@urql/core';
import type * as S from '../gql/schema';
import type { Given } from './types';

/** An outgoing webhook as administrators see it; `secret` is always "***". */
export type Webhook = S.Webhook;
export type WebhookInput = Given<S.WebhookInput>;
export type WebhookTestResult = S.WebhookTestResult;

const WEBHOOK_FIELDS = 'id url secret eventTypes active createdAt createdBy lastAttemptAt lastOk lastResult';

export const WebhooksQuery = gql<{ webhooks: Webhook[] }, Record<string, never>>`
  query Webhooks {
    webhooks { ${WEBHOOK_FIELDS} }
  }
`;

export const AddWebhookMutation = gql<{ addWebhook: Webhook }, { input: WebhookInput }>`
  mutation AddWebhook($input: WebhookInput!) {
    addWebhook(input: $input) { ${WEBHOOK_FIELDS} }
  }
`;

export const RemoveWebhookMutation = gql<{ removeWebhook: Webhook }, { id: string }>`
  mutation RemoveWebhook($id: ID!) {
    removeWebhook(id: $id) {
      id
    }
  }
`;

export const SetWebhookActiveMutation = gql<{ setWebhookActive: Webhook }, { id: string; active: boolean }>`
  mutation SetWebhookActive($id: ID!, $active: Boolean!) {
    setWebhookActive(id: $id, active: $active) { ${WEBHOOK_FIELDS} }
  }
`;

export const TestWebhookMutation = gql<{ testWebhook: WebhookTestResult }, { id: string }>`
  mutation TestWebhook($id: ID!) {
    testWebhook(id: $id) {
      ok
      status
      message
      ms
    }
  }
`;
