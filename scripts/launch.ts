import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * `npm start`: runs one gateway and one worker on the defaults, prefixes their output, forwards
 * Ctrl-C / SIGTERM to both, and exits when either stops (so a crash is never silent).
 */
const root = path.resolve(__dirname, '..', '..');
const processes: Array<[string, string]> = [
  ['gateway', path.join(root, 'dist/src/gateway/main.js')],
  ['worker', path.join(root, 'dist/workers/main.js')],
];

const children: ChildProcess[] = [];
let stopping = false;

function stopAll(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}

for (const [name, entry] of processes) {
  const child = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  children.push(child);
  const prefix = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', prefix(process.stdout));
  child.stderr?.on('data', prefix(process.stderr));
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the rest\n`);
    stopAll('SIGTERM');
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(stopping && code === 0 ? 0 : (code ?? 1));
  });
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
