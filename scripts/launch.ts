import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadEnvFile } from './env-file';
import { launchPlan, LaunchError, type Launch } from './launch-plan';
import { restartBackoff } from './restart-backoff';

/**
 * `npm start`: reads `.env` if there is one (real environment variables win, env-file.ts), runs
 * GATEWAYS gateways and WORKERS workers (default 1 and 1; see launch-plan.ts for their ports),
 * prefixes their output, and supervises them: a process that stops on its own is
 * logged and started again after a backoff (restart-backoff.ts), except one that exits 2 (its
 * configuration is wrong: it would fail again), which stops everything. Ctrl-C / SIGTERM stop all.
 * Exit code: 0 when every process exited 0 on that stop and none stopped on its own before; 2 when
 * a process had a configuration error; else 1.
 */

// Built (`dist/scripts/launch.js`) it runs the built entry points; run from source under tsx (as
// the tests do) it runs the TypeScript ones with the same Node flags (`--import tsx`).
const fromSource = path.extname(__filename) === '.ts';
const root = path.resolve(__dirname, '..', ...(fromSource ? [] : ['..']));
const entryPath = (entry: Launch['entry']) =>
  fromSource ? path.join(root, `${entry}.ts`) : path.join(root, 'dist', `${entry}.js`);

/** The exit code of the processes' configuration check (loadConfigOrExit in src/config.ts). */
const CONFIG_ERROR = 2;

// `.env` of the directory npm start runs in (the project's), under the real environment: see
// env-file.ts. Names only on the line, never values (it holds the secrets).
try {
  const fromFile = loadEnvFile(path.resolve('.env'));
  if (fromFile?.length) process.stderr.write(`launch: from .env: ${fromFile.join(', ')}\n`);
} catch (err) {
  process.stderr.write(`launch: cannot read .env: ${(err as Error).message}\n`);
  process.exit(CONFIG_ERROR);
}

let plan: Launch[];
try {
  plan = launchPlan(process.env);
} catch (err) {
  if (!(err instanceof LaunchError)) throw err;
  process.stderr.write(`launch: ${err.message}\n`);
  process.exit(CONFIG_ERROR);
}

/** One supervised process: its running child (none while it waits to restart, or once stopped). */
interface Supervised {
  launch: Launch;
  child?: ChildProcess;
  startedAt: number;
  /** Stops on its own in a row, for the backoff. */
  crashes: number;
  restart?: NodeJS.Timeout;
}

const supervised: Supervised[] = plan.map((launch) => ({ launch, startedAt: 0, crashes: 0 }));
let stopping = false;
/** Some process stopped on its own, or exited non-zero on the stop. */
let failed = false;
let configError = false;

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Copies a child's stream line by line (whole lines only, so two processes never mix within a line). */
function prefixLines(
  from: NodeJS.ReadableStream | null,
  to: NodeJS.WritableStream,
  name: string,
): void {
  if (from)
    createInterface({ input: from, crlfDelay: Infinity }).on(
      'line',
      (line) => line && to.write(`[${name}] ${line}\n`),
    );
}

function start(s: Supervised): void {
  const { name, entry, env } = s.launch;
  s.restart = undefined;
  s.startedAt = Date.now();
  const child = spawn(process.execPath, [...process.execArgv, entryPath(entry)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  s.child = child;
  prefixLines(child.stdout, process.stdout, name);
  prefixLines(child.stderr, process.stderr, name);
  // A spawn failure (no pids left, ...) is an 'error' event; without a listener it would end the launcher.
  child.on('error', (err) => say(`[${name}] ${err.message}`));
  // 'close', not 'exit': the child's last lines have been copied by then.
  child.on('close', (code, signal) => closed(s, child.pid, code, signal));
}

function closed(
  s: Supervised,
  pid: number | undefined,
  code: number | null,
  signal: NodeJS.Signals | null,
): void {
  s.child = undefined;
  const how = `${signal ? `signal ${signal}` : `code ${code}`}, pid ${pid}`;
  if (stopping) {
    if (code !== 0) failed = true;
  } else if (code === CONFIG_ERROR) {
    // Its own line above says what is wrong; starting it again would only print it again.
    failed = configError = true;
    say(
      `[${s.launch.name}] exited (${how}): a configuration error, not restarting; stopping the rest`,
    );
    stopAll('SIGTERM');
  } else {
    failed = true;
    const { crashes, delayMs } = restartBackoff(s.crashes, Date.now() - s.startedAt);
    s.crashes = crashes;
    const up = ((Date.now() - s.startedAt) / 1000).toFixed(1);
    say(`[${s.launch.name}] exited (${how}, up ${up} s); restarting in ${delayMs / 1000} s`);
    s.restart = setTimeout(() => start(s), delayMs);
  }
  exitWhenAllGone();
}

/** Forwards the signal to every running process and cancels the pending restarts. */
function stopAll(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const s of supervised) {
    clearTimeout(s.restart);
    s.restart = undefined;
    s.child?.kill(signal);
  }
  exitWhenAllGone();
}

function exitWhenAllGone(): void {
  // Nothing else keeps Node running (no timers, no children): it exits once stdout has drained.
  if (stopping && supervised.every((s) => !s.child))
    process.exitCode = configError ? CONFIG_ERROR : failed ? 1 : 0;
}

for (const s of supervised) start(s);
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
