import type { RedisClient } from '../../src/redis/connections';
import { defineHandler, type HandledEvent } from '../../src/handlers/define';
import { defineLuaScripts } from '../../src/redis/lua';

/** How many entries the activity stream keeps (approximately: MAXLEN ~ trims in whole nodes). */
const ACTIVITY_LOG_LENGTH = 10_000;

const EVENTS = [
  'post_liked',
  'post_commented',
  'post_reviewed',
  'user_followed',
  'order_status_changed',
  'payment_confirmed',
] as const;

function append(
  redis: RedisClient,
  key: string,
  events: Array<HandledEvent<(typeof EVENTS)[number]>>,
): Promise<unknown> {
  // lua/activity-append-1.lua: every event of the batch in one call.
  const { sbActivityAppend } = defineLuaScripts(redis, __dirname, {
    sbActivityAppend: 'activity-append-1.lua',
  });
  return sbActivityAppend(
    key,
    ACTIVITY_LOG_LENGTH,
    ...events.flatMap(({ name, data, meta }) => [meta.id, name, meta.room, JSON.stringify(data)]),
  );
}

/**
 * Example handler: appends social and order activity to a Redis stream (`<prefix>:activity`),
 * e.g. for an activity feed or an audit trail. Re-running it for the same meta.id is harmless for
 * readers that de-duplicate on the `id` field. `handleBatch` shows the batch form: all the events
 * of an inbox read in one script call, all or nothing, instead of a round trip each.
 */
export const activityLog = defineHandler({
  name: 'activity-log',
  events: EVENTS,
  async handle(event, { redis, keys }) {
    await append(redis, keys.activityLog, [event]);
  },
  async handleBatch(events, { redis, keys }) {
    await append(redis, keys.activityLog, events);
  },
});
