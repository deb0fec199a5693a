import type { RedisClient } from '../redis/connections';
import { logger } from '../logger';

const log = logger('handler-inbox');

/** The consumer group every worker reads the handler inbox with. */
const GROUP = 'handlers';

export interface InboxEntry {
  id: string;
  fields: Map<string, string>;
}

export interface InboxOptions {
  /** The inbox stream's key. */
  key: string;
  /** This worker's name in the group (unique per process). */
  consumer: string;
  /** Entries a dead consumer read and never acknowledged are taken over after this long. */
  reclaimAfterMs: number;
  /** Entries read at once. */
  count?: number;
  /**
   * After a read that did not fill `count`, wait this long before the next: more batches gather,
   * so one read, one handler call and one acknowledgement serve many (handlers are not on the
   * delivery path; this delays them, never delivery).
   */
  lingerMs?: number;
}

/**
 * Reads the handler inbox (a Redis stream the emit script appends to, one entry per emitted batch
 * with handler work) as a consumer group: each entry goes to one worker, many entries a read, and
 * an entry is deleted only after `handle` finished it. Entries a crashed worker held are reclaimed
 * (XAUTOCLAIM) after `reclaimAfterMs`, so handler work is at least once, like delivery.
 */
export class InboxReader {
  private closing = false;
  private loop: Promise<void> | undefined;
  private lastReclaim = 0;

  constructor(
    private readonly redis: RedisClient,
    /** A connection of its own: the read blocks. */
    private readonly blocking: RedisClient,
    private readonly opts: InboxOptions,
    private readonly handle: (entries: InboxEntry[]) => Promise<void>,
  ) {}

  async start(): Promise<void> {
    await this.createGroup();
    this.loop = this.run();
  }

  /** Whether the last read found the group in place (false while it is being rebuilt). */
  get healthy(): boolean {
    return this.groupInPlace;
  }

  private groupInPlace = true;

  private async createGroup(): Promise<void> {
    try {
      // From the stream's start, not `$`: entries added before the group existed are work too.
      await this.redis.xgroup('CREATE', this.opts.key, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      try {
        if (Date.now() - this.lastReclaim >= this.opts.reclaimAfterMs / 2) await this.reclaim();
        const read = this.blocking.xreadgroup(
          'GROUP',
          GROUP,
          this.opts.consumer,
          'COUNT',
          this.opts.count ?? 100,
          'BLOCK',
          Math.max(100, Math.floor(this.opts.reclaimAfterMs / 2)),
          'STREAMS',
          this.opts.key,
          '>',
        ) as Promise<Array<[string, Array<[string, string[]]>]> | null>;
        read.catch(() => undefined); // settled or not, it is abandoned once closing
        // A read is no work in hand: close() does not wait for it. A cluster client disconnected
        // while it re-routes a command may never settle that command.
        // A fresh promise per read: racing one long-lived promise would add a reaction to it on
        // every read and keep them all until close.
        const stopped = new Promise<null>((resolve) => {
          this.stopRead = () => resolve(null);
        });
        const reply = await Promise.race([read, stopped]);
        this.stopRead = () => undefined;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length > 0) await this.finish(entries);
        if (entries.length > 0 && entries.length < (this.opts.count ?? 100) && this.opts.lingerMs)
          await this.pause(this.opts.lingerMs);
      } catch (err) {
        if (this.isClosing()) return;
        const message = (err as Error).message;
        // NOGROUP: Redis came back without its data (no persistence, a failover to an empty
        // replica, FLUSHALL). The group is created again from the stream's start, so the entries
        // emitted since are handled; what was lost with the data is gone.
        if (message.includes('NOGROUP')) {
          if (this.groupInPlace)
            log.warn(
              { key: this.opts.key },
              'handler inbox group is gone (Redis lost its data); creating it again',
            );
          this.groupInPlace = false;
          try {
            await this.createGroup();
            this.groupInPlace = true;
            log.info({ key: this.opts.key }, 'handler inbox group created again');
            continue;
          } catch (createErr) {
            log.warn(
              { err: (createErr as Error).message },
              'handler inbox group could not be created yet; retrying',
            );
          }
        } else {
          log.warn({ err: message }, 'handler inbox read failed; retrying');
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Read through a call: close() sets `closing` while the loop awaits, which narrowing cannot see. */
  private isClosing(): boolean {
    return this.closing;
  }

  private wake: () => void = () => undefined;
  /** Ends the wait on the read in progress (close() does not wait for a read: no work in hand). */
  private stopRead: () => void = () => undefined;

  /** Takes over entries that another (dead) consumer read and never acknowledged. */
  private async reclaim(): Promise<void> {
    this.lastReclaim = Date.now();
    const [, claimed] = (await this.redis.xautoclaim(
      this.opts.key,
      GROUP,
      this.opts.consumer,
      this.opts.reclaimAfterMs,
      '0-0',
      'COUNT',
      100,
    )) as [string, Array<[string, string[]] | null>];
    const live = claimed.filter((e): e is [string, string[]] => e !== null);
    if (live.length > 0) {
      log.warn({ entries: live.length }, 'taking over handler work a stopped worker had read');
      await this.finish(live);
    }
  }

  private async finish(raw: Array<[string, string[]]>): Promise<void> {
    const entries = raw.map(([id, flat]) => {
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2)
        fields.set(flat[i] as string, flat[i + 1] as string);
      return { id, fields };
    });
    await this.handle(entries);
    const ids = entries.map((e) => e.id);
    await this.redis
      .multi()
      .xack(this.opts.key, GROUP, ...ids)
      .xdel(this.opts.key, ...ids)
      .exec();
  }

  /** Stops reading; waits for the entries in hand to finish. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake();
    this.stopRead();
    this.blocking.disconnect();
    await this.loop;
  }
}
