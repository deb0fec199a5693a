import { Router } from 'express';
import { z } from 'zod';
import { catalog } from '../../catalog';
import { id, text } from '../../catalog/fields';
import { postChatMessage, setChatMembers } from '../../domain/chats';
import { notifyUser } from '../../domain/notifications';
import { createOrder, setOrderStatus } from '../../domain/orders';
import { commentOnPost, likePost } from '../../domain/posts';
import type { Runtime } from '../../runtime';
import { parse } from '../validate';

const IdParams = z.object({ id });

/**
 * Example domain routes: each does its small piece of domain work and publishes through the
 * EventManager. They answer 202 (accepted for delivery) with the event id.
 */
export function domainRoutes(rt: Runtime): Router {
  const r = Router();

  r.post('/posts/:id/like', async (req, res) => {
    const { id: postId } = parse(IdParams, req.params, 'path');
    const { userId } = parse(z.object({ userId: id }), req.body, 'body');
    res.status(202).json(await likePost(rt, postId, userId));
  });

  r.post('/posts/:id/comments', async (req, res) => {
    const { id: postId } = parse(IdParams, req.params, 'path');
    const body = parse(z.object({ userId: id, text: text(2000) }), req.body, 'body');
    res.status(202).json(await commentOnPost(rt, postId, body));
  });

  // Orders record their owner: only the owner (and admins) may join `order:{id}`.
  r.post('/orders', async (req, res) => {
    const body = parse(z.object({ orderId: id, userId: id }), req.body, 'body');
    res.status(202).json(await createOrder(rt, body));
  });

  r.post('/orders/:id/status', async (req, res) => {
    const { id: orderId } = parse(IdParams, req.params, 'path');
    const StatusBody = catalog.order_status_changed.schema.pick({ status: true, note: true }).extend({ userId: id.optional() });
    res.status(202).json(await setOrderStatus(rt, orderId, parse(StatusBody, req.body, 'body')));
  });

  r.post('/chats/:id/messages', async (req, res) => {
    const { id: chatId } = parse(IdParams, req.params, 'path');
    const body = parse(z.object({ userId: id.nullable().default(null), content: text(4000) }), req.body, 'body');
    const { message, eventId } = await postChatMessage(rt, { chatId, ...body });
    res.status(202).json({ id: eventId, message });
  });

  // A chat with members admits only them to `chat:{id}`; an empty list opens it again.
  r.put('/chats/:id/members', async (req, res) => {
    const { id: chatId } = parse(IdParams, req.params, 'path');
    const { userIds } = parse(z.object({ userIds: z.array(id).max(10_000) }), req.body, 'body');
    res.status(200).json(await setChatMembers(rt, chatId, userIds));
  });

  r.post('/users/:id/notifications', async (req, res) => {
    const { id: userId } = parse(IdParams, req.params, 'path');
    const body = parse(catalog.notification.schema, req.body, 'body');
    res.status(202).json(await notifyUser(rt, userId, body));
  });

  return r;
}
