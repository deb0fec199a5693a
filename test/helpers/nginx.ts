import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { captureOutput } from './fault';
import { nginxPrefix } from './nginx-prefix';
import { freePort } from './redis-server';
import { killChild, ROOT, waitForOutput } from './stack';

/** Debian's nginx (scripts/ensure-nginx.sh installs it). */
export const NGINX = '/usr/sbin/nginx';

export interface Nginx {
  port: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs deploy/nginx.conf, unchanged, on a loopback port in front of `gatewayPorts`: the two files
 * it includes (its listen directive and its gateways) are written next to a copy of it in a temp
 * prefix, with the pid file there too. nginx runs in the foreground as a child, stopped by pid.
 */
export async function startNginx(gatewayPorts: number[]): Promise<Nginx> {
  if (!existsSync(NGINX))
    throw new Error(`no nginx at ${NGINX}: run scripts/ensure-nginx.sh (npm test does)`);
  const port = await freePort();
  const { dir, args } = nginxPrefix(ROOT, 'sb-nginx-', port, gatewayPorts);
  // stdout is a file: nginx opens its access log as /dev/stdout, which fails on a socket (a pipe of Node's).
  const accessLog = openSync(path.join(dir, 'access.log'), 'a');
  const check = spawnSync(NGINX, [...args, '-t'], {
    encoding: 'utf8',
    stdio: ['ignore', accessLog, 'pipe'],
  });
  if (check.status !== 0) {
    closeSync(accessLog);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t failed:\n${check.stderr}`);
  }
  const child = spawn(NGINX, args, { stdio: ['ignore', accessLog, 'pipe'] });
  closeSync(accessLog);
  const ready = waitForOutput(child, 'start worker process ', 10_000);
  const output = captureOutput(child);
  const stop = async () => {
    await killChild(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  await ready.catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { port, child, output, stop };
}
