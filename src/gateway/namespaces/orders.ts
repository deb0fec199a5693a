import { ROOMS } from '../../catalog';
import { joinRoomAction, leaveRoomAction, relays } from '../room-actions';

/** /orders: order rooms (`order:{orderId}`). */
export const orders = {
  name: '/orders',
  description: "Order rooms (`order:{orderId}`): status changes and payments. Only the order's owner (recorded by the API) and admins may join.",
  actions: {
    join_order: joinRoomAction(ROOMS.order),
    leave_order: leaveRoomAction(ROOMS.order),
  },
  relays: relays({}),
} as const;
