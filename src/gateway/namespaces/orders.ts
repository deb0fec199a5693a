import { ROOMS } from '../../catalog';
import { joinRoomAction, leaveRoomAction, relays } from '../room-actions';

/** /orders: order rooms (`order:{orderId}`). */
export const orders = {
  name: '/orders',
  actions: {
    join_order: joinRoomAction(ROOMS.order, 'orderId'),
    leave_order: leaveRoomAction(ROOMS.order, 'orderId'),
  },
  relays: relays<{}>(),
} as const;
