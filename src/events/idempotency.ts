import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/connections';
import { GatewayError } from '../errors';
import { logger } from '../logger';
import type { Keys } from '../redis/keys';
import { defineLuaScripts, type ScriptCall } from '../redis/lua';
import type { Envelope } from '../wire/envelope';

const log = logger('events');

/** What an idempotent publish returns: the id, and whether it was an earlier request's. */
export interface IdempotentResult {
  id: string;
  replayed?: true;
}

export interface IdempotencyOptions {
  /** How long a key remembers its event id. */
  ttlMs: number;
  /** How long a second request waits for the first one (with the same key) to finish. */
  waitMs: number;
}

/** Keys are the caller's: any printable string up to 256 characters. */
export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,256}$/;

/** What the same key must mean every time: the event, its room and its validated payload. */
export function fingerprintOf(envelope: Pick<Envelope, 'event' | 'ns' | 'room' | 'data'>): string {
  return createHash('sha256')
    .update(JSON.stringify([envelope.event, envelope.ns, envelope.room, envelope.data]))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Idempotency keys for publish: the first request with a key claims it (SET NX), publishes, then
 * records its event id under the key for `ttlMs`. A request that finds the key returns the
 * recorded id without publishing (after waiting for a claim in progress), so the same key sent
 * any number of times, concurrently or not, yields one event and one delivery.
 *
 * A claim lives only a short while: if its publish fails the claim is released at once, and if
 * its process dies the claim expires, so a retry with the same key can publish. A key reused for
 * a different event, room or payload is refused with `conflict`.
 */
export class IdempotencyStore {
  private readonly settle: ScriptCall;
  private readonly claimTtlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Pick<Keys, 'idempotency'>,
    private readonly opts: IdempotencyOptions,
  ) {
    this.settle = defineLuaScripts(redis, __dirname, {
      sbIdempotencySettle: 'idempotency-settle-1.lua',
    }).sbIdempotencySettle;
    // Long enough for an accept that outlived its caller's timeout to still record its id.
    this.claimTtlMs = Math.max(10_000, opts.waitMs * 5);
  }

  /**
   * Runs `publish` once per key: returns its id, or the id recorded by an earlier request with the
   * same key (`replayed: true`). `token` names this attempt (the envelope id).
   */
  async once(
    key: string,
    fingerprint: string,
    token: string,
    publish: () => Promise<{ id: string }>,
  ): Promise<IdempotentResult> {
    if (!IDEMPOTENCY_KEY_RE.test(key)) {
      throw new GatewayError(
        'invalid_argument',
        'idempotency key must be 1-256 printable ASCII characters without spaces',
      );
    }
    const redisKey = this.keys.idempotency(key);
    const claim = `wait|${fingerprint}|${token}`;
    const deadline = Date.now() + this.opts.waitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
      const won = await this.redis.set(redisKey, claim, 'PX', this.claimTtlMs, 'NX');
      if (won === 'OK')
        return { id: await this.publishClaimed(redisKey, claim, fingerprint, publish) };
      const current = await this.redis.get(redisKey);
      if (current !== null) {
        const [state, seenFingerprint, value] = current.split('|') as [string, string, string];
        if (seenFingerprint !== fingerprint) {
          throw new GatewayError(
            'conflict',
            'this idempotency key was already used for a different event, room or payload',
          );
        }
        if (state === 'done') return { id: value, replayed: true };
      }
      // Claimed by a request still in progress (or just released): wait for it, then look again.
      if (Date.now() + pause > deadline) {
        throw new GatewayError(
          'conflict',
          'a request with this idempotency key is still in progress; retry shortly',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private async publishClaimed(
    redisKey: string,
    claim: string,
    fingerprint: string,
    publish: () => Promise<{ id: string }>,
  ) {
    let id: string;
    try {
      id = (await publish()).id;
    } catch (err) {
      // Not accepted: let the next request with this key try again.
      await this.settle(redisKey, claim, '', 0).catch(() => undefined);
      throw err;
    }
    await this.settle(redisKey, claim, `done|${fingerprint}|${id}`, this.opts.ttlMs).catch(
      (err: unknown) =>
        // The event is accepted; only its key could not be recorded (the claim expires on its own).
        log.warn({ err: (err as Error).message }, 'idempotency key not recorded'),
    );
    return id;
  }
}
