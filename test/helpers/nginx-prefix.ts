import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A temp prefix that runs `root`/deploy/nginx.conf unchanged on loopback `port` in front of
 * `gatewayPorts`: the config copied, the two files it includes (its listen directive and its
 * gateways) written beside it, and the command line that runs it in the foreground with its pid
 * file there. Shared by the tests and the soak bench.
 */
export function nginxPrefix(
  root: string,
  label: string,
  port: number,
  gatewayPorts: number[],
): { dir: string; args: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), label));
  // Run as root, nginx's workers are `nobody`: they must be able to enter the prefix.
  chmodSync(dir, 0o755);
  copyFileSync(path.join(root, 'deploy/nginx.conf'), path.join(dir, 'nginx.conf'));
  writeFileSync(path.join(dir, 'switchboard-listen.conf'), `listen 127.0.0.1:${port};\n`);
  writeFileSync(
    path.join(dir, 'switchboard-gateways.conf'),
    gatewayPorts.map((p) => `server 127.0.0.1:${p};\n`).join(''),
  );
  // The notice level (a second error_log) makes nginx say when its workers start: the ready signal.
  const args = [
    '-p',
    `${dir}/`,
    '-c',
    path.join(dir, 'nginx.conf'),
    '-e',
    'stderr',
    '-g',
    `daemon off; pid ${dir}/nginx.pid; error_log stderr notice;`,
  ];
  return { dir, args };
}
