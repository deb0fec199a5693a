/**
 * Compile-time checks: `npm test` runs `tsc --noEmit` over test/ too, so each @ts-expect-error
 * below fails the build if the catalog ever stops rejecting that call.
 */
import type { EventManager } from '../../src/events/event-manager';
import type {
  NotificationSocket,
  ServerEventsOf,
  SocialSocket,
} from '../../src/client/socket-types';
import { prepareEnvelope } from '../../src/events/event-manager';

function typeChecks(events: EventManager, social: SocialSocket, notifications: NotificationSocket) {
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
    const _n: number = data.likeCount;
    const _id: string = meta.id;
  });
  notifications.on('notification', (data) => {
    // batch events arrive as { items }
    const _first: string | undefined = data.items[0]?.title;
  });
  // @ts-expect-error order events are not on /social
  social.on('order_status_changed', () => undefined);
  social.emit('join_post', { postId: '1' }, (ack) => {
    if (ack.ok) {
      const _room: string = ack.data.room;
    }
  });
  social.emit('join_post', { postId: '1', since: '1700000000000-0' }, (ack) => {
    if (ack.ok) {
      const _recovered = ack.data.recovered;
    }
  });
  social.on('recovery_incomplete', ({ room: _room }) => undefined);
  // @ts-expect-error join_post needs postId
  social.emit('join_post', { chatId: '1' }, () => undefined);
  const _typing: keyof ServerEventsOf<'/social'> = 'typing';
  social.on('typing', (data) => {
    const _post: string = data.postId;
    const _isTyping: boolean = data.typing;
    // @ts-expect-error typing in a post room carries the post's id, not a chat's
    const _chat: keyof typeof data = 'chatId';
  });
}

describe('catalog-derived types', () => {
  it('compile (see tsc) and agree with the runtime catalog', () => {
    expect(typeof typeChecks).toBe('function');
    expect(
      prepareEnvelope({ event: 'post_liked', data: { postId: 1, userId: 'u', likeCount: 1 } }).room,
    ).toBe('post:1');
  });
});
