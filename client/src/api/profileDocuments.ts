import { gql } from '@urql/core';

/** One notification subscription; null filters mean all. */
export interface Subscription {
  id: string;
  username: string;
  source: string | null;
  distribution: string | null;
  createdAt: string;
}

const SUBSCRIPTION_FIELDS = 'id username source distribution createdAt';

export const SubscriptionsQuery = gql<{ subscriptions: Subscription[] }, Record<string, never>>`
  query Subscriptions {
    subscriptions { ${SUBSCRIPTION_FIELDS} }
  }
`;

export const SubscribeMutation = gql<
  { subscribe: Subscription },
  { source: string | null; distribution: string | null }
>`
  mutation Subscribe($source: String, $distribution: String) {
    subscribe(source: $source, distribution: $distribution) { ${SUBSCRIPTION_FIELDS} }
  }
`;

export const UnsubscribeMutation = gql<{ unsubscribe: Subscription }, { id: string }>`
  mutation Unsubscribe($id: ID!) {
    unsubscribe(id: $id) {
      id
    }
  }
`;
