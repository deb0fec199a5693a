import { z } from 'zod';
import { EnvelopeSchema, type Envelope } from './envelope';

/**
 * One delivery job carries a batch of accepted events, each with its own id, ts, room and payload
 * (BullMQ's per-job cost is paid once per batch, not once per event). Events of one producer keep
 * their accept order inside a batch and across batches (the producer adds batches in order and a
 * worker takes one delivery job at a time).
 */
export const BATCH_JOB = 'batch';

export const DeliveryBatchSchema = z.object({
  /** Catalog version of the producer (see catalog/version.ts): the worker re-validates only on a mismatch. */
  catalog: z.string().min(1).max(128),
  events: z.array(EnvelopeSchema).min(1),
});

export interface DeliveryBatch {
  catalog: string;
  events: Envelope[];
}

/** The queues of one deployment, all named after QUEUE_NAME. */
export interface QueueNames {
  /** Delivery batches (job name `batch`). */
  delivery: string;
  /** Throttle-store work: window flushes, the sweep, operator flushes. */
  throttle: string;
  /** Server-side handlers: one retry job per failed (event, handler); the happy path uses the handler inbox. */
  handlers: string;
}

export function queueNames(base: string): QueueNames {
  return { delivery: base, throttle: `${base}-throttle`, handlers: `${base}-handlers` };
}
