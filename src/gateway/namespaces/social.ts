import { ROOMS } from '../../catalog';
import { joinRoomAction, leaveRoomAction, relays, typingAction, typingRelay } from '../room-actions';

/** `typing` in a post room: what typing_start / typing_stop send to the others there. */
const typing = typingRelay(ROOMS.post);

/** /social: post rooms (`post:{postId}`) and typing indicators under a post. */
export const social = {
  name: '/social',
  description:
    'Post rooms (`post:{postId}`: likes, comments, reviews) and typing indicators under a post; `user:{userId}` receives `user_followed`. Post rooms are public (anonymous sockets too, with AUTH_MODE=anonymous).',
  actions: {
    join_post: joinRoomAction(ROOMS.post),
    leave_post: leaveRoomAction(ROOMS.post),
    typing_start: typingAction(typing, true),
    typing_stop: typingAction(typing, false),
  },
  relays: relays({ typing }),
} as const;
