/**
 * Compile-time checks: `npm test` runs `tsc --noEmit` over test/ too, so each @ts-expect-error
 * below fails the build if the catalog ever stops rejecting that call.
 */
import type { EventManager } from '../../src/events/event-manager';
import type { ServerEventsOf, SocialSocket } from '../../src/client/socket-types';
import { prepareEnvelope } from '../../src/events/event-manager';

function typeChecks(events: EventManager, social: SocialSocket) {
  void events.emit('post_liked', { postId: '1', userId: 'u', likeCount: 1 });
  // @ts-expect-error likeCount must be a number
  void events.emit('post_liked', { postId: '1', userId: 'u', likeCount: 'many' });
  // @ts-expect-error unknown event name
  void events.emit('post_exploded', {});
  // @ts-expect-error notification needs a title
  void events.emitToUser('notification', '42', { body: 'b' });
  // @ts-expect-error order_status_changed does not go to a post room
  void events.emitToPost('order_status_changed', '1', { orderId: '1', status: 'paid' });
  // @ts-expect-error the target of an order event is { orderId }
  void events.emit('order_status_changed', { orderId: '1', status: 'paid' }, { postId: '1' });

  social.on('post_liked', (data, meta) => {
    const n: number = data.likeCount;
    const id: string = meta.id;
    void n;
    void id;
  });
  const notifications = {} as import('../../src/client/socket-types').NotificationSocket;
  notifications.on('notification', (data) => {
    // batch events arrive as { items }
    const first: string | undefined = data.items[0]?.title;
    void first;
  });
  // @ts-expect-error order events are not on /social
  social.on('order_status_changed', () => undefined);
  social.emit('join_post', { postId: '1' }, (ack) => {
    if (ack.ok) {
      const room: string = ack.data.room;
      void room;
    }
  });
  social.emit('join_post', { postId: '1', since: '1700000000000-0' }, (ack) => {
    if (ack.ok) void ack.data.recovered;
  });
  social.on('recovery_incomplete', ({ room }) => void room);
  // @ts-expect-error join_post needs postId
  social.emit('join_post', { chatId: '1' }, () => undefined);
  const typing: keyof ServerEventsOf<'/social'> = 'typing';
  void typing;
}

describe('catalog-derived types', () => {
  it('compile (see tsc) and agree with the runtime catalog', () => {
    expect(typeof typeChecks).toBe('function');
    expect(prepareEnvelope({ event: 'post_liked', data: { postId: 1, userId: 'u', likeCount: 1 } }).room).toBe('post:1');
  });
});
