import type { RedisClient } from '../redis/connections';
import { lookupEvent, type EventMeta } from '../catalog';
import { historyPolicy, type HistoryDefaults } from '../history/policy';
import { defineLuaScripts, preloadLuaScripts, type ScriptCall } from '../redis/lua';
import type { Keys } from '../redis/keys';
import {
  encodeAdapterMessage,
  OFFSET_MARK_BYTES,
  withOffsetMark,
  type AdapterFormat,
} from '../wire/adapter-message';
import { keySlot } from '../redis/slot';
import type { Config } from '../config';

const SCRIPTS = { sbEmitBatch: 'emit-batch-n.lua' };
const EMPTY = Buffer.alloc(0);

/** One event in the script's packed argument (see lua/emit-batch-n.lua for the layout). */
function packEvent(
  stream: number,
  channel: number,
  id: string,
  head: Buffer,
  tail: Buffer,
): Buffer {
  const idBytes = Buffer.from(id);
  const out = Buffer.allocUnsafe(5 + idBytes.length + 4 + head.length + 4 + tail.length);
  let at = out.writeUInt16BE(stream, 0);
  at = out.writeUInt16BE(channel, at);
  at = out.writeUInt8(idBytes.length, at);
  at += idBytes.copy(out, at);
  at = out.writeUInt32BE(head.length, at);
  at += head.copy(out, at);
  at = out.writeUInt32BE(tail.length, at);
  tail.copy(out, at);
  return out;
}

/** One event ready to emit: what clients receive as `(data, meta)` in `ns`, room `meta.room`. */
export interface EmitItem {
  event: string;
  data: unknown;
  meta: EventMeta;
}

export interface BatchEmitResult {
  /** The items with `meta.offset` set where the event keeps history. */
  items: EmitItem[];
  /** True when an earlier run of the same batch had already emitted it: nothing was published now. */
  replayed: boolean;
}

export type EmitterConfig = HistoryDefaults & Pick<Config, 'EMIT_MARKER_TTL_MS' | 'REDIS_MODE'>;

/** Picks the handler work of a batch: JSON for the handler inbox, or '' when no event has a handler. */
export type HandlerWork = (items: readonly EmitItem[]) => string;

/** Told each batch once its script returned, i.e. once it was published (metrics). */
export type EmitObserver = (result: BatchEmitResult) => void;

/**
 * Emits batches into namespace rooms on every gateway by publishing the messages the Socket.IO
 * Redis adapter listens for, with one Lua call per batch (history append + PUBLISH per event, in
 * batch order), see lua/emit-batch-n.lua. Each message is msgpack-encoded once, here, and the
 * history keeps those same bytes; an event that has handlers is JSON-encoded a second time, for the
 * handler inbox (handlerWork).
 *
 * Why not @socket.io/redis-emitter: its emit does not return the PUBLISH promise, so a publish
 * lost while Redis is away would still count as delivered; here the worker awaits it, and a failed
 * emit fails the job, which BullMQ retries with the same event ids.
 */
export class BatchEmitter {
  private readonly script: ScriptCall;

  /** `pubsub` for the Redis adapter (PUBLISH), `sharded` for the sharded adapter on Redis Cluster. */
  private readonly format: AdapterFormat;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly config: EmitterConfig,
    private readonly handlerWork: HandlerWork = () => '',
    private readonly observe: EmitObserver = () => undefined,
  ) {
    this.script = defineLuaScripts(redis, __dirname, SCRIPTS).sbEmitBatch;
    this.format = config.REDIS_MODE === 'cluster' ? 'sharded' : 'pubsub';
  }

  /** Loads the script before the first job, so a room's first emits keep their order. */
  ready(): Promise<void> {
    return preloadLuaScripts(this.redis, __dirname, SCRIPTS);
  }

  /**
   * Emits `items` in order as batch `batchId` (unique: a delivery batch's first event id, or a
   * throttle window's id), and hands the events that have handlers to the handler inbox in the same
   * script call. Running the same batch id again within EMIT_MARKER_TTL_MS publishes nothing and
   * returns the offsets of the first run.
   */
  async emit(batchId: string, items: EmitItem[]): Promise<BatchEmitResult> {
    const work = this.handlerWork(items);
    let replayed: boolean;
    let offsets: string[];
    if (this.format === 'pubsub') {
      ({ replayed, offsets } = await this.call(this.keys.emitMarker(batchId), work, items));
    } else {
      ({ replayed, offsets } = await this.emitBySlot(batchId, items));
      // The inbox is in a slot of its own: appended after the emit, so a re-run of a job that died
      // in between hands its events to the handlers again (at least once, as handler retries are).
      if (work !== '')
        await this.redis.xadd(this.keys.handlerInbox, '*', 'e', work, 'o', offsets.join(','));
    }
    items.forEach((item, i) => {
      const offset = offsets[i];
      if (offset) item.meta.offset = offset;
    });
    const result = { items, replayed };
    this.observe(result);
    return result;
  }

  /**
   * Redis Cluster: one script call per slot of the batch's rooms (a room's stream and channel share
   * a slot), in the order the slots first appear; each call has its own marker in its slot. Room
   * order holds: a room's events are all in its slot's call, in batch order.
   */
  private async emitBySlot(
    batchId: string,
    items: EmitItem[],
  ): Promise<{ replayed: boolean; offsets: string[] }> {
    const groups = new Map<number, { channel: string; positions: number[] }>();
    // A batch is mostly a few rooms: one CRC16 per room, not per event.
    const slots = new Map<string, number>();
    items.forEach((item, i) => {
      const channel = this.keys.roomChannel(item.meta.ns, item.meta.room);
      let slot = slots.get(channel);
      if (slot === undefined) slots.set(channel, (slot = keySlot(channel)));
      const group = groups.get(slot) ?? { channel, positions: [] };
      group.positions.push(i);
      groups.set(slot, group);
    });
    const offsets: string[] = new Array<string>(items.length).fill('');
    let replayed = true;
    for (const { channel, positions } of groups.values()) {
      const done = await this.call(
        this.keys.emitMarker(batchId, channel),
        '',
        positions.map((i) => items[i] as EmitItem),
      );
      replayed &&= done.replayed;
      positions.forEach((at, j) => (offsets[at] = done.offsets[j] ?? ''));
    }
    return { replayed, offsets };
  }

  /** One script call: `items` appended to their rooms' histories and published, in order. */
  private async call(
    marker: string,
    work: string,
    items: EmitItem[],
  ): Promise<{ replayed: boolean; offsets: string[] }> {
    const streams = new Map<string, number>();
    const streamArgs: Array<string | number> = [];
    const channels = new Map<string, number>();
    const parts: Buffer[] = [];
    for (const { event, data, meta } of items) {
      const channelKey = this.keys.roomChannel(meta.ns, meta.room);
      let channel = channels.get(channelKey);
      if (channel === undefined) {
        channel = channels.size + 1;
        channels.set(channelKey, channel);
      }
      const policy = historyPolicy(lookupEvent(event), this.config);
      let stream = 0;
      let head: Buffer;
      let tail: Buffer = EMPTY;
      if (!policy) {
        head = encodeAdapterMessage(this.format, meta.ns, event, data, meta);
      } else {
        const key = this.keys.history(meta.ns, meta.room);
        stream = streams.get(key) ?? 0;
        if (stream === 0) {
          stream = streams.size + 1;
          streams.set(key, stream);
          streamArgs.push(policy.maxLen, policy.maxAgeMs);
        }
        const message = encodeAdapterMessage(
          this.format,
          meta.ns,
          event,
          data,
          withOffsetMark(meta),
        );
        // The mark is the last string a client could not have written (meta comes after data and
        // the offset is meta's last field), so its last occurrence is the one to replace.
        const at = message.lastIndexOf(OFFSET_MARK_BYTES);
        head = message.subarray(0, at);
        tail = message.subarray(at + OFFSET_MARK_BYTES.length);
      }
      parts.push(packEvent(stream, channel, meta.id, head, tail));
    }
    // Without handler work the inbox is not touched: the marker stands in for it (same slot).
    const keys = [marker, work === '' ? marker : this.keys.handlerInbox, ...streams.keys()];
    const publish = this.format === 'pubsub' ? 'PUBLISH' : 'SPUBLISH';
    const args = [
      this.config.EMIT_MARKER_TTL_MS,
      work,
      channels.size,
      ...streamArgs,
      ...channels.keys(),
      publish,
      Buffer.concat(parts),
    ];
    const [replayed, joined] = (await this.script(keys.length, ...keys, ...args)) as [
      number,
      string,
    ];
    return { replayed: replayed === 1, offsets: joined.split(',') };
  }
}
