import type { z } from 'zod';
import type { Namespace } from '../../catalog';
import type { Ack } from '../ack';
import type { ActionDefinition } from '../action';
import type { RelayDefinition } from '../room-actions';
import { chat } from './chat';
import { commonActions } from './common';
import { notification } from './notification';
import { orders } from './orders';
import { social } from './social';

/** Every namespace module, by name. A namespace in the catalog without a module fails to compile. */
export const namespaceModules = {
  '/social': social,
  '/chat': chat,
  '/orders': orders,
  '/notification': notification,
} as const satisfies Record<
  Namespace,
  {
    name: string;
    description: string;
    actions: Record<string, ActionDefinition>;
    relays: Record<string, RelayDefinition>;
  }
>;

type ActionsOf<NS extends Namespace> = (typeof namespaceModules)[NS]['actions'] &
  typeof commonActions;

/** Client-to-server event map of a namespace: each action's payload and the ack it gets back. */
export type ClientActionsOf<NS extends Namespace> = {
  [A in keyof ActionsOf<NS> & string]: ActionsOf<NS>[A] extends ActionDefinition<infer S, infer R>
    ? (payload: z.input<S>, ack: (res: Ack<Awaited<R>>) => void) => void
    : never;
};

type RelaysOf<NS extends Namespace> = (typeof namespaceModules)[NS]['relays'];

/** Events a namespace relays from one client to the others (typing indicators), as listener types. */
export type RelayEventsOf<NS extends Namespace> = {
  [E in keyof RelaysOf<NS>]: RelaysOf<NS>[E] extends RelayDefinition<infer S>
    ? (data: z.output<S>) => void
    : never;
};
