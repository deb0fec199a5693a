import type { ChainableCommander } from 'ioredis';
import { defineHandler, type HandledEvent } from '../../src/handlers/define';

/** How many entries the activity stream keeps (approximately: MAXLEN ~ trims in whole nodes). */
const ACTIVITY_LOG_LENGTH = 10_000;

const EVENTS = ['post_liked', 'post_commented', 'post_reviewed', 'user_followed', 'order_status_changed', 'payment_confirmed'] as const;

function append(tx: ChainableCommander, key: string, { name, data, meta }: HandledEvent<(typeof EVENTS)[number]>): ChainableCommander {
  return tx.xadd(key, 'MAXLEN', '~', ACTIVITY_LOG_LENGTH, '*', 'id', meta.id, 'event', name, 'room', meta.room, 'data', JSON.stringify(data));
}

/**
 * Example handler: appends social and order activity to a Redis stream (`<prefix>:activity`),
 * e.g. for an activity feed or an audit trail. Re-running it for the same meta.id is harmless for
 * readers that de-duplicate on the `id` field. `handleBatch` writes a delivered batch's events in
 * one MULTI (one round trip, all or nothing) instead of one XADD round trip each.
 */
export const activityLog = defineHandler({
  name: 'activity-log',
  events: EVENTS,
  async handle(event, { redis, keys }) {
    await append(redis.multi(), keys.activityLog, event).exec();
  },
  async handleBatch(events, { redis, keys }) {
    const tx = redis.multi();
    for (const event of events) append(tx, keys.activityLog, event);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('activity log transaction aborted');
  },
});
