import { gql } from '@urql/core';
import type * as S from '../gql/schema';

/** One notification subscription; null filters mean all. */
export type Subscription = S.PackageSubscription;

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
