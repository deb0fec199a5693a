import type { Config } from './config';
import type { EventManager } from './events/event-manager';
import type { Management } from './management/management';
import type { RedisClient } from './redis/connections';
import type { Keys } from './redis/keys';

/**
 * The shared core a gateway process hands to its transports (socket actions, HTTP routes):
 * config, key names, a fail-fast Redis connection, the EventManager and the management core.
 * Only the shape lives here (parts take `Pick<Runtime, ...>` of what they use); it is opened by
 * the composition root, src/app/runtime.ts.
 */
export interface Runtime {
  readonly config: Config;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly events: EventManager;
  /** Throttle-store operations for the admin API (same core as the CLI). */
  readonly management: Management;
  close(): Promise<void>;
}
