/**
 * Types for frontends, derived from the catalog and the namespace modules. Example:
 *
 *   import { io, type Socket } from 'socket.io-client';
 *   import type { SocialSocket } from '@switchboard/client';
 *   const social: SocialSocket = io('http://localhost:3000/social');
 *   social.on('post_liked', (data, meta) => console.log(data.likeCount, meta.id));
 */
import type { Socket } from 'socket.io-client';
import type { Namespace } from '../catalog/namespaces';
import type { ClientActionsOf, ServerEventsOf } from './contract';

export type SwitchboardSocket<NS extends Namespace> = Socket<
  ServerEventsOf<NS>,
  ClientActionsOf<NS>
>;

export type SocialSocket = SwitchboardSocket<'/social'>;
export type ChatSocket = SwitchboardSocket<'/chat'>;
export type OrdersSocket = SwitchboardSocket<'/orders'>;
export type NotificationSocket = SwitchboardSocket<'/notification'>;

export type { EventMeta } from '../catalog/event-meta';
export type { DeliveredData, EventName, ServerEventsOf } from './contract';
export type { Ack, AckError, AckOk } from '../wire/ack';
