import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { catalog } from '../../catalog';
import { id, text, withExamples } from '../../catalog/fields';
import { postChatMessage, setChatMembers, type RoomMembership } from '../../domain/chats';
import { notifyUser } from '../../domain/notifications';
import { createOrder, setOrderStatus } from '../../domain/orders';
import { commentOnPost, likePost } from '../../domain/posts';
import type { Runtime } from '../../runtime';
import { Accepted, EventId, type HttpOperation } from '../operation';
import { parse } from '../validate';

// The schemas each route parses with; the OpenAPI document (domainOperations) shows the same ones.
export const IdParams = withExamples(z.object({ id }), { id: '123' });
export const LikeBody = withExamples(z.object({ userId: id }), { userId: '42' });
export const CommentBody = withExamples(z.object({ userId: id, text: text(2000) }), {
  userId: '42',
  text: 'Great post!',
});
export const CreateOrderBody = withExamples(z.object({ orderId: id, userId: id }), {
  orderId: '1001',
  userId: '42',
});
export const OrderStatusBody = withExamples(
  catalog.order_status_changed.schema
    .pick({ status: true, note: true })
    .extend({ userId: id.optional() }),
  {
    status: 'shipped',
    note: 'Left the warehouse',
    userId: '42',
  },
);
export const ChatMessageBody = withExamples(
  z.object({ userId: id.nullable().default(null), content: text(4000) }),
  { userId: '42', content: 'Hello!' },
);
export const ChatMembersBody = withExamples(z.object({ userIds: z.array(id).max(10_000) }), {
  userIds: ['42', '7'],
});
export const NotificationBody = catalog.notification.schema;

/**
 * Example domain routes: each does its small piece of domain work and publishes through the
 * EventManager. They answer 202 (accepted for delivery) with the event id.
 */
export function domainRoutes(
  rt: Pick<Runtime, 'events' | 'keys' | 'redis'>,
  membership?: RoomMembership,
): Router {
  const r = Router();

  // Orders record their owner: only the owner (and admins) may join `order:{id}`.
  r.post('/orders', async (req, res) => {
    const body = parse(CreateOrderBody, req.body, 'body');
    res.status(202).json(await createOrder(rt, body));
  });

  // The routes on one id: each parses the id, then its body, and answers with what its work returns.
  const onId: Array<[method: 'post' | 'put', path: string, handler: RequestHandler]> = [
    [
      'post',
      '/posts/:id/like',
      idWithBody(202, LikeBody, (postId, { userId }) => likePost(rt, postId, userId)),
    ],
    [
      'post',
      '/posts/:id/comments',
      idWithBody(202, CommentBody, (postId, body) => commentOnPost(rt, postId, body)),
    ],
    [
      'post',
      '/orders/:id/status',
      idWithBody(202, OrderStatusBody, (orderId, body) => setOrderStatus(rt, orderId, body)),
    ],
    [
      'post',
      '/chats/:id/messages',
      idWithBody(202, ChatMessageBody, (chatId, body) => chatMessage(rt, chatId, body)),
    ],
    // A chat with members admits only them to `chat:{id}`; an empty list opens it again.
    [
      'put',
      '/chats/:id/members',
      idWithBody(200, ChatMembersBody, (chatId, { userIds }) =>
        setChatMembers(rt, chatId, userIds, membership),
      ),
    ],
    [
      'post',
      '/users/:id/notifications',
      idWithBody(202, NotificationBody, (userId, body) => notifyUser(rt, userId, body)),
    ],
  ];
  for (const [method, path, handler] of onId) r[method](path, handler);

  return r;
}

/** Posts a chat message and answers with its event id and the stored message. */
async function chatMessage(
  rt: Pick<Runtime, 'events' | 'keys' | 'redis'>,
  chatId: string,
  body: z.output<typeof ChatMessageBody>,
): Promise<{ id: string; message: unknown }> {
  const { message, eventId } = await postChatMessage(rt, { chatId, ...body });
  return { id: eventId, message };
}

/**
 * A route on `/…/:id` with a JSON body: parses the id, then the body, and answers `status` with
 * what `work` returns.
 */
function idWithBody<Body extends z.ZodType>(
  status: number,
  schema: Body,
  work: (id: string, body: z.output<Body>) => Promise<unknown>,
): RequestHandler {
  return async (req, res) => {
    const { id } = parse(IdParams, req.params, 'path');
    const body = parse(schema, req.body, 'body');
    res.status(status).json(await work(id, body));
  };
}

const accepted = (what: string) => `accepted for delivery: ${what}`;
// Every route here publishes (or writes Redis): `unavailable` when Redis does not take it in time.
const PUBLISHES = ['unavailable'] as const;

export const domainOperations: HttpOperation[] = [
  {
    method: 'post',
    path: '/api/posts/{id}/like',
    operationId: 'likePost',
    tag: 'domain',
    auth: 'publish',
    summary: 'Like a post',
    description:
      "Increments the post's like counter and publishes `post_liked { postId, userId, likeCount }` (throttled: at most one emit per second per post).",
    params: IdParams,
    body: LikeBody,
    response: {
      status: 202,
      description: accepted('`post_liked`'),
      schema: z.object({ id: EventId, likeCount: z.number().int().positive() }),
    },
    errors: PUBLISHES,
  },
  {
    method: 'post',
    path: '/api/posts/{id}/comments',
    operationId: 'commentOnPost',
    tag: 'domain',
    auth: 'publish',
    summary: 'Comment on a post',
    description: 'Publishes `post_commented` with a new comment id.',
    params: IdParams,
    body: CommentBody,
    response: {
      status: 202,
      description: accepted('`post_commented`'),
      schema: z.object({ id: EventId, commentId: z.string() }),
    },
    errors: PUBLISHES,
  },
  {
    method: 'post',
    path: '/api/orders',
    operationId: 'createOrder',
    tag: 'domain',
    auth: 'publish',
    summary: 'Create an order',
    description:
      "Records the order's owner (only the owner and admins may join `order:{orderId}`; the first owner sticks: `conflict` if the order belongs to another user) and publishes `order_status_changed` with status `created`.",
    body: CreateOrderBody,
    response: {
      status: 202,
      description: accepted('`order_status_changed`'),
      schema: z.object({ id: EventId, orderId: z.string() }),
    },
    errors: [...PUBLISHES, 'conflict'],
  },
  {
    method: 'post',
    path: '/api/orders/{id}/status',
    operationId: 'setOrderStatus',
    tag: 'domain',
    auth: 'publish',
    summary: "Change an order's status",
    description:
      'Publishes `order_status_changed`; with `userId`, records the owner first (`conflict` if the order belongs to another user).',
    params: IdParams,
    body: OrderStatusBody,
    response: { status: 202, description: accepted('`order_status_changed`'), schema: Accepted },
    errors: [...PUBLISHES, 'conflict'],
  },
  {
    method: 'post',
    path: '/api/chats/{id}/messages',
    operationId: 'postChatMessage',
    tag: 'domain',
    auth: 'publish',
    summary: 'Post a chat message',
    description:
      'Stores the message (the chat keeps its last 200) and publishes it to `chat:{id}` as `new_message`.',
    params: IdParams,
    body: ChatMessageBody,
    response: {
      status: 202,
      description: accepted('`new_message`, with the stored message'),
      schema: z.object({ id: EventId, message: catalog.new_message.schema }),
    },
    errors: PUBLISHES,
  },
  {
    method: 'put',
    path: '/api/chats/{id}/members',
    operationId: 'setChatMembers',
    tag: 'domain',
    auth: 'publish',
    summary: "Set a chat's members",
    description:
      'Replaces the member list: only members may join `chat:{id}` and post there from then on, and sockets of other users already in the room are removed from it on every gateway; an empty list opens the chat to every signed-in user again.',
    params: IdParams,
    body: ChatMembersBody,
    response: {
      status: 200,
      description:
        'the number of distinct members, and of sockets removed from the room because their user is not one',
      schema: z.object({
        members: z.number().int().nonnegative(),
        removed: z.number().int().nonnegative(),
      }),
    },
    errors: PUBLISHES,
  },
  {
    method: 'post',
    path: '/api/users/{id}/notifications',
    operationId: 'notifyUser',
    tag: 'domain',
    auth: 'publish',
    summary: 'Notify a user',
    description:
      'Publishes `notification` to every socket of the user (room `user:{id}`; batched: at most one list of 20 a second).',
    params: IdParams,
    body: NotificationBody,
    response: { status: 202, description: accepted('`notification`'), schema: Accepted },
    errors: PUBLISHES,
  },
];
