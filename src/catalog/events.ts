import { z } from 'zod';
import { defineCatalog, immediate, throttle } from './define';
import { ROOMS } from './rooms';
import { id, text, withExamples } from './fields';

/**
 * THE event catalog: every server-initiated event, its namespace, room, payload schema and
 * delivery policy. EventManager, workers, the HTTP publish API, the CLI, the client types and the
 * specs (src/specs/) all derive from this object. Adding an event means adding one entry here and
 * nothing else; its schema carries an example (`withExamples`), which the AsyncAPI document shows.
 */
export const catalog = defineCatalog({
  // ---- /social -------------------------------------------------------------------------------
  post_liked: {
    namespace: '/social',
    room: ROOMS.post,
    schema: withExamples(
      z.object({ postId: id, userId: id, likeCount: z.number().int().nonnegative() }),
      { postId: '123', userId: '42', likeCount: 7 },
    ),
    // Only the newest like count matters; a viral post must not send thousands of emits.
    delivery: throttle(1000, 'latest'),
    description: 'A post was liked; carries the new like count.',
  },
  post_commented: {
    namespace: '/social',
    room: ROOMS.post,
    schema: withExamples(z.object({ postId: id, commentId: id, userId: id, text: text(2000) }), {
      postId: '123',
      commentId: 'c-9001',
      userId: '42',
      text: 'Great post!',
    }),
    // Each comment is content people wait for; comments come at human speed.
    delivery: immediate(),
    description: 'A comment was added to a post.',
  },
  post_reviewed: {
    namespace: '/social',
    room: ROOMS.post,
    schema: withExamples(
      z.object({
        postId: id,
        reviewId: id,
        userId: id,
        rating: z.number().int().min(1).max(5),
        text: text(2000).optional(),
      }),
      { postId: '123', reviewId: 'r-77', userId: '42', rating: 5, text: 'Clear and useful.' },
    ),
    // Every review counts (none may be lost), but a burst arrives as one list.
    delivery: throttle(2000, 'batch', 50),
    description: 'A review with a 1-5 rating was left on a post.',
  },
  user_followed: {
    namespace: '/social',
    room: ROOMS.user,
    schema: withExamples(z.object({ userId: id, followerId: id }), {
      userId: '42',
      followerId: '7',
    }),
    // Follower bursts on a popular user become one "N new followers" emit.
    delivery: throttle(5000, 'batch', 100),
    description: 'Someone followed the user; goes to that user.',
  },

  // ---- /orders -------------------------------------------------------------------------------
  order_status_changed: {
    namespace: '/orders',
    room: ROOMS.order,
    schema: withExamples(
      z.object({
        orderId: id,
        status: z.enum(['created', 'paid', 'preparing', 'shipped', 'delivered', 'cancelled']),
        note: text(500).optional(),
      }),
      { orderId: '1001', status: 'shipped', note: 'Left the warehouse' },
    ),
    // Few per order, each transition matters and must arrive in order, at once.
    delivery: immediate(),
    description: "An order moved to a new status; goes to the order's room.",
  },
  payment_confirmed: {
    namespace: '/orders',
    room: ROOMS.order,
    schema: withExamples(
      z.object({
        orderId: id,
        paymentId: id,
        amount: z.number().nonnegative(), // zod 4 numbers are finite already
        currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as EUR'),
      }),
      { orderId: '1001', paymentId: 'pay_5521', amount: 49.9, currency: 'EUR' },
    ),
    // One per payment; the buyer is waiting for it.
    delivery: immediate(),
    description: 'A payment for an order was confirmed.',
  },

  // ---- /chat ---------------------------------------------------------------------------------
  new_message: {
    namespace: '/chat',
    room: ROOMS.chat,
    schema: withExamples(
      z.object({
        chatId: id,
        messageId: id,
        userId: id.nullable(),
        content: text(4000),
        sentAt: z.number().int().nonnegative(),
      }),
      {
        chatId: 'general',
        messageId: 'm-1',
        userId: '42',
        content: 'Hello!',
        sentAt: 1763889503572,
      },
    ),
    // Chat is latency-bound; every message is distinct content.
    delivery: immediate(),
    description: 'A chat message (sent over the socket or the HTTP API), as stored.',
  },
  message_read: {
    namespace: '/chat',
    room: ROOMS.chat,
    schema: withExamples(z.object({ chatId: id, messageId: id, userId: id }), {
      chatId: 'general',
      messageId: 'm-1',
      userId: '7',
    }),
    // Read markers are cumulative (reading N implies N-1): the first goes out at once so a 1:1
    // chat feels instant; a group's burst of reads becomes one trailing update with the newest.
    delivery: throttle(1000, 'leading'),
    description: 'A participant read a message.',
  },

  // ---- /notification -------------------------------------------------------------------------
  notification: {
    namespace: '/notification',
    room: ROOMS.user,
    schema: withExamples(
      z.object({
        title: text(200),
        body: text(2000),
        kind: z.enum(['info', 'success', 'warning', 'error']).default('info'),
        link: z.string().max(2000).optional(),
      }),
      {
        title: 'Order shipped',
        body: 'Your order 1001 is on its way.',
        kind: 'success',
        link: '/orders/1001',
      },
    ),
    // A chatty backend must not flood a user: at most one list of 20 a second, none lost.
    delivery: throttle(1000, 'batch', 20),
    description: 'A notification for one user (target: { userId }).',
  },
  user_status_changed: {
    namespace: '/notification',
    room: ROOMS.presence,
    schema: withExamples(z.object({ userId: id, status: z.enum(['online', 'offline']) }), {
      userId: '42',
      status: 'online',
    }),
    // One shared presence room: flapping users batch, and latest would drop other users.
    delivery: throttle(1000, 'batch', 500),
    description: 'A user came online (first socket) or went offline (last socket).',
    // Presence is state: a reconnecting client asks get_online instead of replaying changes.
    history: false,
  },
});
