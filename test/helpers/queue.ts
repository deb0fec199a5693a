import type { Job, Queue } from 'bullmq';
import type { Envelope } from '../../src/wire/envelope';

/** Every event in the delivery queue's jobs of the given states (a test without a worker inspects these). */
export async function queuedEvents(
  queue: Queue,
  states: Array<'wait' | 'active' | 'delayed' | 'completed' | 'failed'> = ['wait'],
): Promise<Envelope[]> {
  const jobs = await queue.getJobs(states, 0, -1, true);
  return jobs.flatMap(
    (job: Job | undefined) => (job?.data as { events?: Envelope[] } | undefined)?.events ?? [],
  );
}
