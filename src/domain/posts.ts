import { randomUUID } from 'node:crypto';
import type { Runtime } from '../runtime';

type Deps = Pick<Runtime, 'redis' | 'keys' | 'events'>;

/** Counts a like and publishes `post_liked` with the new count. */
export async function likePost(
  rt: Deps,
  postId: string,
  userId: string,
): Promise<{ id: string; likeCount: number }> {
  const likeCount = await rt.redis.incr(rt.keys.postLikes(postId));
  const { id } = await rt.events.emitToPost('post_liked', postId, { postId, userId, likeCount });
  return { id, likeCount };
}

/** Publishes `post_commented` for a new comment (storage of comments is the caller's domain). */
export async function commentOnPost(
  rt: Deps,
  postId: string,
  input: { userId: string; text: string },
): Promise<{ id: string; commentId: string }> {
  const commentId = randomUUID();
  const { id } = await rt.events.emitToPost('post_commented', postId, {
    postId,
    commentId,
    ...input,
  });
  return { id, commentId };
}
