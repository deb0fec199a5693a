import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { launchPlan, LaunchError, type Launch } from './launch-plan';

/**
 * `npm start`: runs GATEWAYS gateways and WORKERS workers (default 1 and 1; see launch-plan.ts for
 * their ports), prefixes their output, forwards Ctrl-C / SIGTERM to all, and exits when any of them
 * stops (so a crash is never silent): 0 only when it was asked to stop and every process exited 0.
 */

// Built (`dist/scripts/launch.js`) it runs the built entry points; run from source under tsx (as
// the tests do) it runs the TypeScript ones with the same Node flags (`--import tsx`).
const fromSource = path.extname(__filename) === '.ts';
const root = path.resolve(__dirname, '..', ...(fromSource ? [] : ['..']));
const entryPath = (entry: Launch['entry']) => (fromSource ? path.join(root, `${entry}.ts`) : path.join(root, 'dist', `${entry}.js`));

let plan: Launch[];
try {
  plan = launchPlan(process.env);
} catch (err) {
  if (!(err instanceof LaunchError)) throw err;
  process.stderr.write(`launch: ${err.message}\n`);
  process.exit(2);
}

const children: ChildProcess[] = [];
let stopping = false;
let status = 0;
let closed = 0;

function stopAll(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/** Copies a child's stream line by line (whole lines only, so two processes never mix within a line). */
function prefixLines(from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream, name: string): void {
  if (from) createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => line && to.write(`[${name}] ${line}\n`));
}

for (const { name, entry, env } of plan) {
  const child = spawn(process.execPath, [...process.execArgv, entryPath(entry)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  prefixLines(child.stdout, process.stdout, name);
  prefixLines(child.stderr, process.stderr, name);
  // 'close', not 'exit': the child's last lines have been copied by then.
  child.on('close', (code, signal) => {
    if (!stopping) process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the rest\n`);
    if (!stopping || code !== 0) status = 1;
    stopAll('SIGTERM');
    // Nothing else keeps Node running: it exits once stdout has drained.
    if (++closed === plan.length) process.exitCode = status;
  });
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
