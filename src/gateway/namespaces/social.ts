import { ROOMS } from '../../catalog';
import { roomActionsIn, relays, typingActions, typingRelay } from '../room-actions';

/** /social: post rooms (`post:{postId}`) and typing indicators under a post. */
export const social = {
  name: '/social',
  description:
    'Post rooms (`post:{postId}`: likes, comments, reviews) and typing indicators under a post; `user:{userId}` receives `user_followed`. Post rooms are public (anonymous sockets too, with AUTH_MODE=anonymous).',
  actions: {
    ...roomActionsIn('/social'),
    ...typingActions(ROOMS.post),
  },
  relays: relays({ typing: typingRelay(ROOMS.post) }),
} as const;
