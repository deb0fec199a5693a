import { roomActionsIn, relays } from '../room-actions';

/** /orders: order rooms (`order:{orderId}`). */
export const orders = {
  name: '/orders',
  description:
    "Order rooms (`order:{orderId}`): status changes and payments. Only the order's owner (recorded by the API) and admins may join.",
  actions: {
    ...roomActionsIn('/orders'),
  },
  relays: relays({}),
} as const;
