import { DEFAULT_METRICS_PORT, DEFAULT_PORT } from '../src/config';

/** One process `npm start` runs: its output prefix, entry point (project-relative, no extension) and environment. */
export interface Launch {
  name: string;
  entry: 'src/app/gateway-main' | 'workers/main';
  env: NodeJS.ProcessEnv;
}

/** A bad GATEWAYS / WORKERS / port combination, said in one line. */
export class LaunchError extends Error {
  override readonly name = 'LaunchError';
}

/** Processes of one kind on one host at most: a typo such as GATEWAYS=100 must not start 100 Node processes. */
export const MAX_PER_KIND = 64;

/**
 * GATEWAYS or WORKERS: unset or empty means 1; 0 runs none of that kind (a host of workers only);
 * anything but a whole number from 0 to MAX_PER_KIND is refused.
 */
export function countOf(env: NodeJS.ProcessEnv, name: 'GATEWAYS' | 'WORKERS'): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return 1;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= MAX_PER_KIND))
    throw new LaunchError(
      `${name} must be a whole number from 0 to ${MAX_PER_KIND} (got ${JSON.stringify(raw)})`,
    );
  return n;
}

/**
 * The port of process `n` (from 0) of a kind: `base` + n, so processes on one host never clash.
 * `0` stays `0` (any free port). A value that is not a number is passed on unchanged: the
 * process's own configuration check names it.
 */
export function portOf(name: 'PORT' | 'METRICS_PORT', base: string, n: number): string {
  if (base === '0' || !/^\d+$/.test(base)) return base;
  const port = Number(base) + n;
  if (port > 65535)
    throw new LaunchError(
      `${name} ${base} leaves no room for ${n + 1} processes (port ${port} is past 65535)`,
    );
  return String(port);
}

/** `kind` alone when there is one, else `kind-1`, `kind-2`, ... (the output prefix). */
const nameOf = (kind: string, count: number, n: number) =>
  count === 1 ? kind : `${kind}-${n + 1}`;

/**
 * What `npm start` runs for an environment: GATEWAYS gateways on PORT, PORT+1, ... and WORKERS
 * workers with METRICS_PORT, METRICS_PORT+1, ... (defaults 1 and 1, ports from src/config.ts).
 * Throws a LaunchError on a bad count, on both counts 0, or on a port range past 65535.
 */
export function launchPlan(env: NodeJS.ProcessEnv): Launch[] {
  const gateways = countOf(env, 'GATEWAYS');
  const workers = countOf(env, 'WORKERS');
  if (gateways + workers === 0)
    throw new LaunchError(
      'GATEWAYS and WORKERS are both 0: nothing to run (set at least one of them to 1 or more)',
    );
  const port = env.PORT || String(DEFAULT_PORT);
  const metricsPort = env.METRICS_PORT || String(DEFAULT_METRICS_PORT);
  return [
    ...Array.from({ length: gateways }, (_, n): Launch => ({
      name: nameOf('gateway', gateways, n),
      entry: 'src/app/gateway-main',
      env: { ...env, PORT: portOf('PORT', port, n) },
    })),
    ...Array.from({ length: workers }, (_, n): Launch => ({
      name: nameOf('worker', workers, n),
      entry: 'workers/main',
      env: { ...env, METRICS_PORT: portOf('METRICS_PORT', metricsPort, n) },
    })),
  ];
}
