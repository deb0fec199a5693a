import { ROOMS } from '../../catalog';
import { joinRoomAction, leaveRoomAction, relays, typingAction } from '../room-actions';

/** /social: post rooms (`post:{postId}`) and typing indicators under a post. */
export const social = {
  name: '/social',
  actions: {
    join_post: joinRoomAction(ROOMS.post, 'postId'),
    leave_post: leaveRoomAction(ROOMS.post, 'postId'),
    typing_start: typingAction(ROOMS.post, 'postId', true),
    typing_stop: typingAction(ROOMS.post, 'postId', false),
  },
  relays: relays<{ typing: (data: { postId: string; userId?: string; typing: boolean }) => void }>(),
} as const;
