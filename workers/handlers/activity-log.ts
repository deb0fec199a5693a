import { defineHandler } from '../../src/handlers/define';

/** How many entries the activity stream keeps (approximately: MAXLEN ~ trims in whole nodes). */
const ACTIVITY_LOG_LENGTH = 10_000;

/**
 * Example handler: appends social and order activity to a Redis stream (`<prefix>:activity`),
 * e.g. for an activity feed or an audit trail. Re-running it for the same meta.id is harmless for
 * readers that de-duplicate on the `id` field.
 */
export const activityLog = defineHandler({
  name: 'activity-log',
  events: ['post_liked', 'post_commented', 'post_reviewed', 'user_followed', 'order_status_changed', 'payment_confirmed'],
  async handle({ name, data, meta }, { redis, keys }) {
    await redis.xadd(
      keys.activityLog,
      'MAXLEN',
      '~',
      ACTIVITY_LOG_LENGTH,
      '*',
      'id',
      meta.id,
      'event',
      name,
      'room',
      meta.room,
      'data',
      JSON.stringify(data),
    );
  },
});
