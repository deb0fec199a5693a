import { UnrecoverableError, type Job } from 'bullmq';
import type { BatchEmitter } from './batch-emitter';
import { readBatch } from './batch-reader';

/** A delivery job kept as failed because some of its events can never be delivered (its others were). */
export class UndeliverableEvents extends UnrecoverableError {}

export interface BatchJobParts {
  emitter: Pick<BatchEmitter, 'emit'>;
  /** WORKER_VALIDATE: when payloads are checked against the catalog again before emitting. */
  validate: Parameters<typeof readBatch>[1];
  /** Each event set aside as never deliverable, by catalog name (metrics). */
  onUndeliverable: (event: unknown) => void;
}

/**
 * Runs one delivery batch job: one script call emits its events (history, publish, handler work);
 * the call's marker makes a re-run of the job (stalled, retried) publish nothing a second time.
 */
export function batchJob({ emitter, validate, onUndeliverable }: BatchJobParts) {
  return async (job: Job): Promise<void> => {
    let batch;
    try {
      batch = readBatch(job.data, validate);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    if (batch.items.length > 0) await emitter.emit(batch.id, batch.items);
    const [first] = batch.rejected;
    if (first) {
      for (const rejected of batch.rejected) onUndeliverable(rejected.event);
      // Kept as failed (visible in `sb failed list`); its valid events were delivered above.
      throw new UndeliverableEvents(
        `${batch.rejected.length} event(s) not deliverable, e.g. ${first.event} ${first.id}: ${first.reason}`,
      );
    }
  };
}
