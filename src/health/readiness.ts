import type { RedisClient } from '../redis/connections';
import { within } from '../timeout';

/** How long each readiness check may take before it reports `timeout`. */
export const READINESS_TIMEOUT_MS = 1000;

/** `ok`, or why not: `timeout`, `error`, `down`, `stopped`, or the connection's ioredis status. */
export type CheckResult = string;

export interface Readiness {
  ok: boolean;
  checks: Record<string, CheckResult>;
}

export function readiness(checks: Record<string, CheckResult>): Readiness {
  return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
}

/** `ok` if `work` resolves within `timeoutMs`, else `timeout` (or `error` if it rejects). */
export async function bounded(
  work: Promise<unknown>,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<CheckResult> {
  const checked = work.then(
    (): CheckResult => 'ok',
    (): CheckResult => 'error',
  );
  return within(checked, timeoutMs, (): CheckResult => 'timeout');
}

/**
 * PING on a command connection. A connection that is not `ready` answers with its status at once
 * (`reconnecting`, `connecting`, `end`): no command is queued behind an outage.
 */
export function pingCheck(
  redis: RedisClient,
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<CheckResult> {
  if (redis.status !== 'ready') return Promise.resolve(redis.status);
  return bounded(redis.ping(), timeoutMs);
}

/**
 * Proves that a subscriber connection receives: the subscriber is subscribed to a channel of its
 * own, and a check publishes a nonce there on a command connection and waits to hear it back.
 * ioredis subscribes the channel again after a reconnect, with the adapter's channels. `sharded`
 * (Redis Cluster, where the adapter uses SSUBSCRIBE): the probe goes the same way, SPUBLISH to a
 * shard channel.
 */
export class PubSubProbe {
  private readonly waiting = new Map<string, () => void>();
  private next = 0;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== this.channel) return;
    const resolve = this.waiting.get(message);
    this.waiting.delete(message);
    resolve?.();
  };

  private constructor(
    private readonly sub: RedisClient,
    private readonly pub: RedisClient,
    readonly channel: string,
    private readonly sharded: boolean,
  ) {}

  static async start(
    sub: RedisClient,
    pub: RedisClient,
    channel: string,
    sharded = false,
  ): Promise<PubSubProbe> {
    const probe = new PubSubProbe(sub, pub, channel, sharded);
    sub.on(sharded ? 'smessage' : 'message', probe.onMessage);
    await (sharded ? sub.ssubscribe(channel) : sub.subscribe(channel));
    return probe;
  }

  /** `ok` once the nonce came back, `timeout` after `timeoutMs`, `error` if PUBLISH failed. */
  async check(timeoutMs = READINESS_TIMEOUT_MS): Promise<CheckResult> {
    if (this.sub.status !== 'ready') return this.sub.status;
    if (this.pub.status !== 'ready') return 'error';
    const nonce = String(this.next++);
    const heard = new Promise<void>((resolve) => this.waiting.set(nonce, resolve));
    try {
      // `error` if PUBLISH fails, `timeout` if the message does not come back in time.
      return await bounded(
        (this.sharded
          ? this.pub.spublish(this.channel, nonce)
          : this.pub.publish(this.channel, nonce)
        ).then(() => heard),
        timeoutMs,
      );
    } finally {
      this.waiting.delete(nonce);
    }
  }

  stop(): void {
    this.sub.off(this.sharded ? 'smessage' : 'message', this.onMessage);
    this.waiting.clear();
  }
}
