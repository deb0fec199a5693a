import { ROOMS } from '../../catalog';
import { joinRoomAction, leaveRoomAction, relays, typingAction, typingRelay } from '../room-actions';

/** /social: post rooms (`post:{postId}`) and typing indicators under a post. */
export const social = {
  name: '/social',
  description:
    'Post rooms (`post:{postId}`: likes, comments, reviews) and typing indicators under a post; `user:{userId}` receives `user_followed`. Post rooms are public (anonymous sockets too, with AUTH_MODE=anonymous).',
  actions: {
    join_post: joinRoomAction(ROOMS.post, 'postId'),
    leave_post: leaveRoomAction(ROOMS.post, 'postId'),
    typing_start: typingAction(ROOMS.post, 'postId', true),
    typing_stop: typingAction(ROOMS.post, 'postId', false),
  },
  relays: relays({ typing: typingRelay(ROOMS.post, 'postId') }),
} as const;
