/**
 * Compile-time checks of the gateway's Socket.IO types (src/gateway/socket-types.ts): `npm test`
 * runs `tsc --noEmit` over test/ too, so each @ts-expect-error below fails the build if a wrong
 * emit ever compiles. The test at the end checks the runtime side the types stand for.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import type { SocketUser } from '../../src/auth/user';
import { ROOMS, type EventMeta } from '../../src/catalog';
import { namespaceModules } from '../../src/gateway/namespaces/registry';
import { typingRelay } from '../../src/gateway/room-actions';
import {
  namespaceOf,
  type GatewayNamespace,
  type GatewayServer,
  type GatewaySocket,
} from '../../src/gateway/socket-types';

function typeChecks(
  social: GatewayNamespace<'/social'>,
  orders: GatewaySocket<'/orders'>,
  anySocket: GatewaySocket,
  io: GatewayServer,
  meta: EventMeta,
) {
  social.to('post:1').emit('post_liked', { postId: '1', userId: 'u', likeCount: 1 }, meta);
  // @ts-expect-error likeCount must be a number
  social.to('post:1').emit('post_liked', { postId: '1', userId: 'u', likeCount: 'many' }, meta);
  // @ts-expect-error a catalog event goes out with its meta
  social.to('post:1').emit('post_liked', { postId: '1', userId: 'u', likeCount: 1 });
  // @ts-expect-error order events are not on /social
  social.emit('order_status_changed', { orderId: '1', status: 'paid' }, meta);
  // @ts-expect-error an event outside the catalog, the relays and the system events
  orders.emit('blob', 'x');

  social.to('post:1').emit('typing', { postId: '1', userId: '42', typing: true });
  // @ts-expect-error typing in a post room names the post
  social.to('post:1').emit('typing', { chatId: '1', typing: true });
  // @ts-expect-error /orders relays nothing
  orders.emit('typing', { orderId: '1', typing: true });

  orders.emit('recovery_incomplete', { room: 'order:1', reason: 'trimmed' });
  // @ts-expect-error recovery_incomplete says why
  orders.emit('recovery_incomplete', { room: 'order:1' });
  orders.emit('disconnect_reason', { code: 'rate_limited', message: 'too many refused requests' });
  io.emit('recovery_incomplete', { room: 'presence', reason: 'trimmed' });
  // @ts-expect-error the server as a whole sends only the system events; a namespace's own go through namespaceOf
  io.emit('post_liked', { postId: '1', userId: 'u', likeCount: 1 }, meta);

  const _user: SocketUser | undefined = anySocket.data.user;
  // @ts-expect-error socket.data holds the user, nothing else
  const _token: unknown = anySocket.data.token;
}

describe('gateway Socket.IO types', () => {
  it('compile (see tsc) and stand for what the gateway does at run time', async () => {
    expect(typeof typeChecks).toBe('function');
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const io: GatewayServer = new Server(http);
    try {
      expect(namespaceOf(io, '/social')).toBe(io.of('/social'));
    } finally {
      await io.close();
    }
    // The typing relay's schema is what its type says: the room's ids (an id may arrive as a number), userId?, typing.
    expect(typingRelay(ROOMS.post).schema.parse({ postId: 7, typing: true })).toEqual({
      postId: '7',
      typing: true,
    });
    // The room actions' payloads are typed by their template: join_post takes postId (and since).
    expect(
      namespaceModules['/social'].actions.join_post.schema.parse({
        postId: '1',
        since: '1700000000000-0',
      }),
    ).toEqual({
      postId: '1',
      since: '1700000000000-0',
    });
    expect(
      namespaceModules['/social'].actions.join_post.schema.safeParse({ chatId: '1' }).success,
    ).toBe(false);
  });
});
