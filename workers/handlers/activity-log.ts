import type { RedisClient } from '../../src/redis/connections';
import { defineHandler, type HandledEvent } from '../../src/handlers/define';

/** How many entries the activity stream keeps (approximately: MAXLEN ~ trims in whole nodes). */
const ACTIVITY_LOG_LENGTH = 10_000;

const EVENTS = ['post_liked', 'post_commented', 'post_reviewed', 'user_followed', 'order_status_changed', 'payment_confirmed'] as const;

/**
 * KEYS[1] the activity stream; ARGV[1] max length; then 4 values per event: id, event, room, data
 * JSON. Appends every event in order, in one call (one command to build and parse, not one per event).
 */
const APPEND_LUA = `
for i = 2, #ARGV, 4 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[i], 'event', ARGV[i + 1], 'room', ARGV[i + 2], 'data', ARGV[i + 3])
end
return (#ARGV - 1) / 4`;

type Appender = RedisClient & { sbActivityAppend(key: string, maxLen: number, ...fields: string[]): Promise<number> };

function append(redis: RedisClient, key: string, events: Array<HandledEvent<(typeof EVENTS)[number]>>): Promise<number> {
  const r = redis as Appender;
  if (typeof r.sbActivityAppend !== 'function') redis.defineCommand('sbActivityAppend', { numberOfKeys: 1, lua: APPEND_LUA });
  return r.sbActivityAppend(key, ACTIVITY_LOG_LENGTH, ...events.flatMap(({ name, data, meta }) => [meta.id, name, meta.room, JSON.stringify(data)]));
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
