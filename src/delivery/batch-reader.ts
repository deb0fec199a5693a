import { lookupEvent, type EventMeta } from '../catalog';
import { CATALOG_VERSION } from '../catalog/version';
import { GatewayError } from '../errors';
import type { Envelope } from '../wire/envelope';
import { isSafeSegment } from '../ids';
import { DeliveryBatchSchema } from '../wire/delivery-batch';
import type { EmitItem } from './batch-emitter';

export interface ReadBatch {
  /** The batch's id for its emit marker: its first event's id. */
  id: string;
  items: EmitItem[];
  /** Events that can never be delivered (another catalog version refused them), with why. */
  rejected: Array<{ id: string; event: string; reason: string }>;
}

/**
 * Reads a delivery job's batch. Every event's name, namespace and room are checked (cheap: a map
 * lookup and a pattern). Payloads were validated against the catalog by the producer; they are
 * validated again only when the producer stamped another catalog version, or with `always`.
 * An event that fails is set aside, not the batch: its neighbours are still delivered.
 * Throws only for a job that is not a batch at all.
 */
export function readBatch(raw: unknown, validate: 'auto' | 'always'): ReadBatch {
  const full =
    validate === 'always' || (raw as { catalog?: unknown } | null)?.catalog !== CATALOG_VERSION;
  // Same version: the producer built these envelopes, so a shape check by hand is enough (zod's
  // full parse of every envelope is the cost the version check exists to avoid).
  const events = full ? parseWithZod(raw) : (raw as { events?: unknown }).events;
  if (!Array.isArray(events) || events.length === 0)
    throw new Error('malformed delivery batch: no events');
  const first = events[0] as Partial<Envelope> | null;
  if (typeof first?.id !== 'string' || !isSafeSegment(first.id))
    throw new Error('malformed delivery batch: bad first event id');
  const out: ReadBatch = { id: first.id, items: [], rejected: [] };
  // Unchecked until checkShape (or zod) has run: a job's data is whatever was stored.
  for (const envelope of events as Array<Partial<Envelope> | null>) {
    try {
      if (!full) checkShape(envelope);
      // With `full`, zod has parsed every envelope already.
      out.items.push(toItem(envelope as Envelope, full));
    } catch (err) {
      out.rejected.push({
        id: String(envelope?.id),
        event: String(envelope?.event),
        reason: (err as Error).message,
      });
    }
  }
  return out;
}

function parseWithZod(raw: unknown): Envelope[] {
  const batch = DeliveryBatchSchema.safeParse(raw);
  if (!batch.success)
    throw new Error(`malformed delivery batch: ${batch.error.issues[0]?.message}`);
  return batch.data.events;
}

function checkShape(e: Partial<Envelope> | null): asserts e is Envelope {
  if (
    typeof e !== 'object' ||
    e === null ||
    typeof e.id !== 'string' ||
    typeof e.room !== 'string' ||
    typeof e.ts !== 'number'
  ) {
    throw new Error('malformed envelope');
  }
}

function toItem(envelope: Envelope, full: boolean): EmitItem {
  const entry = lookupEvent(envelope.event);
  if (entry.namespace !== envelope.ns)
    throw new Error(`event ${entry.name} belongs to ${entry.namespace}, not ${envelope.ns}`);
  if (!isSafeSegment(envelope.room))
    throw new Error(`room ${JSON.stringify(envelope.room)} is not a valid room name`);
  let data = envelope.data;
  if (full) {
    // A throttled `batch` event emitted on its own (operator force-emit) carries `{ items }`.
    const wrapped =
      entry.delivery.kind === 'throttle' &&
      entry.delivery.mode === 'batch' &&
      envelope.coalesced !== undefined;
    const schema = wrapped ? undefined : entry.schema;
    if (schema) {
      const parsed = schema.safeParse(data);
      if (!parsed.success) throw new Error(GatewayError.fromZod(parsed.error).message);
      data = parsed.data;
    } else {
      const items = (data as { items?: unknown } | null)?.items;
      if (!Array.isArray(items))
        throw new Error(`${entry.name} emitted alone must carry { items }`);
      data = { items: items.map((item) => entry.schema.parse(item)) };
    }
  }
  const meta: EventMeta = {
    id: envelope.id,
    ts: envelope.ts,
    ns: envelope.ns,
    room: envelope.room,
  };
  if (envelope.coalesced !== undefined) meta.coalesced = envelope.coalesced;
  return { event: entry.name, data, meta };
}
