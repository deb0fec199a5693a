import type { JobsOptions, Queue } from 'bullmq';
import type { Envelope } from './envelope';

interface Pending {
  envelope: Envelope;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the jobs added in one turn of the event loop and sends them with one `addBulk`
 * (one MULTI, one round trip) instead of a round trip each. A lone event waits only for the
 * current turn to end; a burst of N events costs one round trip instead of N.
 */
export class BatchedEnqueue {
  private batch: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly queue: Queue,
    private readonly jobOptions: JobsOptions,
    private readonly maxBatch = 500,
  ) {}

  add(envelope: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.batch.push({ envelope, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.queue
      .addBulk(
        batch.map(({ envelope }) => ({
          name: envelope.event,
          data: envelope,
          opts: { ...this.jobOptions, jobId: envelope.id },
        })),
      )
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
  }
}
