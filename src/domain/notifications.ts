import type { PayloadOf } from '../catalog';
import type { Runtime } from '../runtime';

/** Publishes a `notification` to every socket of one user (room `user:{userId}`). */
export async function notifyUser(
  rt: Pick<Runtime, 'events'>,
  userId: string,
  input: PayloadOf<'notification'>,
): Promise<{ id: string }> {
  return rt.events.emitToUser('notification', userId, input);
}
