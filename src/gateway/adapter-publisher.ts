import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';

const log = logger('adapter-publish');

/** At most one warn line per this long, however many publishes are dropped. */
const WARN_EVERY_MS = 10_000;

type Publish = (channel: string | Buffer, message: string | Buffer) => Promise<number>;

/**
 * Makes a connection safe to hand to the Socket.IO Redis adapter as its publisher. The adapter
 * calls `publish` / `spublish` for every broadcast (a typing relay, the Admin UI's stats every
 * 2 s, serverSideEmit) and never handles the promise: on a fail-fast connection that is offline
 * each call rejects ("Stream isn't writeable...") with nobody listening, and Node's default for
 * an unhandled rejection ends the process. Here a failed publish is dropped instead, counted
 * (`onDrop`) and logged at most once per 10 s. Only those broadcasts are affected: the local
 * sockets got them already, and events from the queue are published by the workers, which retry.
 *
 * `redis` must be this gateway's own connection for the adapter (its methods are replaced).
 */
export function dropFailedPublishes<C extends RedisClient>(redis: C, onDrop: () => void): C {
  let dropped = 0;
  let lastWarn = 0;
  const guard = (publish: Publish): Publish =>
    function guarded(channel, message) {
      return publish(channel, message).catch((err: unknown) => {
        onDrop();
        dropped++;
        const now = Date.now();
        if (now - lastWarn >= WARN_EVERY_MS) {
          log.warn(
            { dropped, err: (err as Error).message },
            'adapter publish failed while Redis is unavailable; broadcast dropped for other gateways',
          );
          lastWarn = now;
          dropped = 0;
        }
        return 0;
      });
    };
  const methods = redis as unknown as { publish: Publish; spublish: Publish };
  methods.publish = guard(methods.publish.bind(redis));
  methods.spublish = guard(methods.spublish.bind(redis));
  return redis;
}
