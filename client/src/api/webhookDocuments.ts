import { gql } from '@urql/core';

/** An outgoing webhook as administrators see it; `secret` is always "***". */
export interface Webhook {
  id: string;
  url: string;
  secret: string;
  eventTypes: string[];
  active: boolean;
  createdAt: string;
  createdBy: string;
  lastAttemptAt: string | null;
  lastOk: boolean | null;
  lastResult: string | null;
}

export interface WebhookInput {
  url: string;
  secret: string;
  eventTypes: string[];
  active: boolean;
}

export interface WebhookTestResult {
  ok: boolean;
  status: number | null;
  message: string;
  ms: number;
}

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
