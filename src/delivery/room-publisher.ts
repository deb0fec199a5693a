import type { Redis } from 'ioredis';
import { encode } from 'notepack.io';
import { lookupEvent, type EventMeta, type Namespace } from '../catalog';
import { historyPolicy, type HistoryDefaults } from '../history/policy';
import { defineLuaScripts, preloadLuaScripts, type ScriptCall } from '../redis/lua';
import type { Keys } from '../redis/keys';

/** socket.io-parser's packet type for an event. */
const EVENT_PACKET = 2;
/** Sender id in adapter messages; gateways only skip messages carrying their own random uid. */
const PUBLISHER_UID = 'switchboard-worker';
/** Stands in for meta.offset while encoding; the script splices the real offset in its place. */
const OFFSET_MARK = '\u0001sb-offset\u0001';
const MARK_BYTES = encode(OFFSET_MARK) as Buffer;
const HISTORY_DIR = `${__dirname}/../history`;
const SCRIPTS = { sbEmitHistory: 'emit-history-1.lua' };

export interface EmitResult {
  /** Gateway subscriptions that received the message. */
  receivers: number;
  /** The event's position in its room's history, when the event keeps history. */
  offset?: string;
}

/**
 * Emits into a namespace room on every gateway by publishing the message the Socket.IO Redis
 * adapter listens for (msgpack of `[uid, packet, opts]` on `<key>#<ns>#<room>#`).
 *
 * Events that keep history go through one Lua script that appends the event to the room's stream
 * and publishes it with `meta.offset` = its stream id, atomically: the offset a client holds is
 * always a real position in the history it can recover from.
 *
 * Why not @socket.io/redis-emitter: its emit does not return the PUBLISH promise, so a publish
 * lost while Redis is away would still count as delivered. Here the worker awaits it, so a failed
 * publish fails the job and BullMQ retries it. Each message is encoded once.
 */
export class RoomPublisher {
  private readonly script: ScriptCall;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly history: HistoryDefaults,
  ) {
    this.script = defineLuaScripts(redis, HISTORY_DIR, SCRIPTS).sbEmitHistory;
  }

  /** Loads the emit script before the first job, so a room's first emits keep their order. */
  ready(): Promise<void> {
    return preloadLuaScripts(this.redis, HISTORY_DIR, SCRIPTS);
  }

  async emit(ns: Namespace, room: string, event: string, data: unknown, meta: EventMeta): Promise<EmitResult> {
    const channel = `${this.keys.adapterKey}#${ns}#${room}#`;
    const policy = historyPolicy(lookupEvent(event), this.history);
    if (!policy) return { receivers: await this.redis.publish(channel, this.encode(ns, room, event, data, meta)) };

    const message = this.encode(ns, room, event, data, { ...meta, offset: OFFSET_MARK });
    // The mark is the last string a client could not have written (room names cannot hold \u0001,
    // and meta comes after data), so its last occurrence is the one to replace.
    const at = message.lastIndexOf(MARK_BYTES);
    const replay = JSON.stringify([data, meta]);
    const [offset, receivers] = (await this.script(
      this.keys.history(ns, room),
      channel,
      message.subarray(0, at),
      message.subarray(at + MARK_BYTES.length),
      policy.maxLen,
      policy.maxAgeMs,
      meta.id,
      event,
      replay,
    )) as [string, number];
    return { receivers, offset };
  }

  private encode(ns: Namespace, room: string, event: string, data: unknown, meta: EventMeta): Buffer {
    const packet = { type: EVENT_PACKET, data: [event, data, meta], nsp: ns };
    return encode([PUBLISHER_UID, packet, { rooms: [room], except: [], flags: {} }]) as Buffer;
  }
}
