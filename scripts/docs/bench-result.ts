/**
 * One JSON file of bench/results/, read by dotted path. A figure the docs ask for that the file
 * does not hold (a bench that changed its output) is an error naming the file and the path, never
 * an `undefined` printed into a page.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_RESULTS_DIR } from './paths';

export class BenchResult {
  private constructor(
    /** The file name inside bench/results/, e.g. `e2e.json`. */
    readonly file: string,
    private readonly data: unknown,
  ) {}

  static load(file: string, dir = BENCH_RESULTS_DIR): BenchResult {
    return new BenchResult(file, JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  }

  /** The value at `a.b.c` (array items by index: `runs.0.p99`), or undefined. */
  get(dotted: string): unknown {
    let value: unknown = this.data;
    for (const key of dotted.split('.')) {
      if (typeof value !== 'object' || value === null) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  }

  number(dotted: string): number {
    const value = this.get(dotted);
    if (typeof value !== 'number') throw this.missing(dotted, 'a number', value);
    return value;
  }

  /** A number the bench may leave out or write as null (a path without that cost, e.g. the emitter's jobs). */
  optionalNumber(dotted: string): number | undefined {
    const value = this.get(dotted);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw this.missing(dotted, 'a number or null', value);
    return value;
  }

  string(dotted: string): string {
    const value = this.get(dotted);
    if (typeof value !== 'string') throw this.missing(dotted, 'a string', value);
    return value;
  }

  boolean(dotted: string): boolean {
    const value = this.get(dotted);
    if (typeof value !== 'boolean') throw this.missing(dotted, 'a boolean', value);
    return value;
  }

  array(dotted: string): unknown[] {
    const value = this.get(dotted);
    if (!Array.isArray(value)) throw this.missing(dotted, 'an array', value);
    return value;
  }

  /** The keys of the object at `dotted`, in the file's order. */
  keys(dotted: string): string[] {
    const value = this.get(dotted);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw this.missing(dotted, 'an object', value);
    return Object.keys(value);
  }

  /** Where the run's machine facts are: `setup` for most scenarios, the top level for replay and soak. */
  private fact(name: string): unknown {
    return this.get(`setup.${name}`) ?? this.get(name);
  }

  /** When the run started: `2026-11-24 05:47 UTC`. */
  runTime(): string {
    const date = this.fact('runDate');
    if (typeof date !== 'string') throw this.missing('setup.runDate', 'a string', date);
    return `${date.slice(0, 10)} ${date.slice(11, 16)} UTC`;
  }

  /** The machine the run was on: `2 cores (AMD EPYC), 23.5 GiB, linux x64, Node v20.20.2`. */
  machine(): string {
    const parts: string[] = [];
    const cores = this.fact('cores');
    const cpu = this.fact('cpuModel');
    if (typeof cores === 'number')
      parts.push(`${cores} cores${typeof cpu === 'string' ? ` (${cpu})` : ''}`);
    const memory = this.fact('memoryGiB');
    if (typeof memory === 'number') parts.push(`${memory} GiB`);
    // `linux 6.18.44-fc-v509 x64`: the kernel build differs per boot of the same machine.
    const platform = this.fact('platform');
    if (typeof platform === 'string') {
      const words = platform.split(' ');
      parts.push(
        words.length > 2 ? `${words[0] ?? ''} ${words[words.length - 1] ?? ''}` : platform,
      );
    }
    const node = this.fact('node');
    if (typeof node === 'string') parts.push(`Node ${node}`);
    return parts.length > 0 ? parts.join(', ') : 'a machine the file does not describe';
  }

  /** How busy the machine was: `load average 1.21 before, 2.27 after` (1-minute), when recorded. */
  load(): string | undefined {
    const before = this.fact('loadavgBefore');
    const after = this.fact('loadavgAfter');
    return Array.isArray(before) && Array.isArray(after)
      ? `load average ${String(before[0])} before, ${String(after[0])} after`
      : undefined;
  }

  private missing(dotted: string, expected: string, got: unknown): Error {
    return new Error(
      `bench/results/${this.file}: ${dotted} is not ${expected} (got ${JSON.stringify(got)})`,
    );
  }
}
