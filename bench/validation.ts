/**
 * What the worker's re-validation costs: readBatch on a batch of bench events with the producer's
 * catalog version (shape checks only) against `always` (every payload through its zod schema),
 * in CPU microseconds per event, median of repeated rounds in this process. `npm run bench` runs
 * it as scenario `validation`.
 */
import { performance } from 'node:perf_hooks';
import { CATALOG_VERSION } from '../src/catalog/version';
import { readBatch } from '../src/delivery/batch-reader';
import { prepareEnvelope } from '../src/events/event-manager';
import { BENCH_EVENT, BENCH_ORDER, encodeNote } from './lib/protocol';
import { machineFacts, writeResult } from './lib/report';
import { median, round } from './lib/stats';

export interface ValidationOptions {
  batchSize: number;
  rounds: number;
  batchesPerRound: number;
}

export const VALIDATION_DEFAULTS: ValidationOptions = {
  batchSize: 100,
  rounds: 15,
  batchesPerRound: 200,
};

function usPerEvent(batch: unknown, mode: 'auto' | 'always', opts: ValidationOptions): number {
  // Each round parses a fresh JSON copy, as a worker receives a job's data from BullMQ.
  const json = JSON.stringify(batch);
  const copies = Array.from({ length: opts.batchesPerRound }, () => JSON.parse(json) as unknown);
  const t0 = performance.now();
  for (const copy of copies) readBatch(copy, mode);
  return ((performance.now() - t0) * 1000) / (opts.batchesPerRound * opts.batchSize);
}

export function runValidation(opts: ValidationOptions, outFile: string): Promise<unknown> {
  const events = Array.from({ length: opts.batchSize }, (_, i) =>
    prepareEnvelope({
      event: BENCH_EVENT,
      data: { orderId: BENCH_ORDER, status: 'shipped', note: encodeNote(1, i, 12345.678) },
      target: { orderId: BENCH_ORDER },
    }),
  );
  const batch = { catalog: CATALOG_VERSION, events };
  const samples: Record<'auto' | 'always', number[]> = { auto: [], always: [] };
  for (let r = 0; r < opts.rounds; r++) {
    for (const mode of ['auto', 'always'] as const)
      samples[mode].push(usPerEvent(batch, mode, opts));
  }
  const auto = round(median(samples.auto), 3);
  const always = round(median(samples.always), 3);
  const result = {
    scenario: 'validation',
    setup: { ...machineFacts(), ...opts, event: BENCH_EVENT },
    note: 'CPU microseconds per event in readBatch (shape checks, catalog lookup, meta); median of rounds, modes alternating',
    usPerEvent: { sameCatalogVersion: auto, always },
    extraUsPerEventToRevalidate: round(always - auto, 3),
  };
  process.stdout.write(`[validation] us/event: same catalog ${auto}, always validate ${always}\n`);
  writeResult(outFile, result);
  return Promise.resolve(result);
}
