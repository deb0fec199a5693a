import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Gateway } from '../../src/gateway/server';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server';
import { declared, metricNames } from '../helpers/promql';
import { freePort } from '../helpers/redis-server';
import { killChild, ROOT, Stack } from '../helpers/stack';
import { until } from '../helpers/wait';

const run = promisify(execFile);
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const CONFIG = path.join(ROOT, 'deploy/prometheus/prometheus.yml');

interface RuleGroup {
  name: string;
  rules: Array<{ name: string; query: string; health: string; lastError?: string }>;
}

/**
 * deploy/prometheus/ in a real Prometheus (Debian's, from scripts/ensure-prometheus.sh): the shipped
 * prometheus.yml with its targets pointed at a gateway and a worker this test starts (and 1 s
 * intervals), the shipped alerts.yml. Prometheus runs by pid on a free loopback port with a data
 * directory of its own, and is killed at the end. It loads every rule group, scrapes both jobs,
 * evaluates every rule without error, and answers a query for a switchboard_ metric; `promtool
 * check rules` passes on alerts.yml and finds as many rules as Prometheus loaded.
 */
describe('deploy/prometheus: alert rules and scrape config in a real Prometheus', () => {
  const stack = new Stack();
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let output = '';
  let workerHttp: MetricsServer | undefined;
  let base: string;
  /** Every series name the gateway or the worker declares on /metrics, and Prometheus's own `up`. */
  let served: Set<string>;

  beforeAll(async () => {
    for (const tool of [PROMETHEUS, PROMTOOL])
      if (!existsSync(tool))
        throw new Error(`no ${tool}: run scripts/ensure-prometheus.sh (npm test does)`);
    const gw: Gateway = await stack.gateway();
    const worker = await stack.worker();
    workerHttp = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      metrics: worker.metrics,
      ready: () => worker.ready(),
    });
    served = new Set([
      ...declared(await (await fetch(stack.url(gw, '/metrics'))).text()),
      ...declared(await worker.metrics.text()),
      'up',
    ]);
    dir = mkdtempSync(path.join(tmpdir(), 'sb-prometheus-'));
    // The shipped config, with only its targets, intervals and rule file path replaced.
    const replacements: Array<[string, string]> = [
      ["'127.0.0.1:3000'", `'127.0.0.1:${gw.port}'`],
      ["'127.0.0.1:9464'", `'127.0.0.1:${workerHttp.port}'`],
      ['scrape_interval: 15s', 'scrape_interval: 1s'],
      ['evaluation_interval: 15s', 'evaluation_interval: 1s'],
      ['- alerts.yml', `- ${ALERTS}`],
    ];
    let config = readFileSync(CONFIG, 'utf8');
    for (const [from, to] of replacements) {
      expect(config).toContain(from);
      config = config.replace(from, to);
    }
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-5000));
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);
    const child = prometheus;
    const exited = new Promise<never>((_resolve, reject) =>
      child.once('exit', (code) => reject(new Error(`prometheus exited (${code}):\n${output}`))),
    );
    await Promise.race([
      until(
        async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200,
        30_000,
        'Prometheus ready',
      ),
      exited,
    ]);
  }, 60_000);

  afterAll(async () => {
    if (prometheus) await killChild(prometheus, 'SIGTERM');
    await workerHttp?.close();
    await stack.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${base}/api/v1/${p}`);
    const body = (await res.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${p}: ${JSON.stringify(body)}`);
    return body.data;
  };
  const groups = async () => (await api<{ groups: RuleGroup[] }>('rules')).groups;

  it('loads every rule group of alerts.yml and evaluates each rule without error', async () => {
    const shipped = [...readFileSync(ALERTS, 'utf8').matchAll(/^ {2}- name: (\S+)$/gm)].map(
      (m) => m[1],
    );
    expect(shipped.length).toBeGreaterThan(3);
    await until(
      async () =>
        (await groups())
          .map((g) => g.name)
          .sort()
          .join() === [...shipped].sort().join(),
      30_000,
      `rule groups ${shipped.join()}`,
    );
    await until(
      async () => (await groups()).every((g) => g.rules.every((r) => r.health === 'ok')),
      30_000,
      'every rule evaluated',
    );
    const rules = (await groups()).flatMap((g) => g.rules);
    expect(rules.filter((r) => r.lastError)).toEqual([]);
    // A misspelt metric evaluates fine (to nothing): each one a rule reads must be served.
    const used = [...new Set(rules.flatMap((r) => metricNames(r.query)))];
    expect(used).toEqual(expect.arrayContaining(['switchboard_events_accepted_total', 'up']));
    expect(used.filter((name) => !served.has(name))).toEqual([]);

    // promtool agrees: valid, with as many rules as Prometheus loaded.
    const { stdout } = await run(PROMTOOL, ['check', 'rules', ALERTS]);
    expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  }, 70_000);

  it('scrapes the gateway and the worker, and answers a query for their metrics', async () => {
    type Target = { labels: { job: string }; health: string; lastError: string };
    await until(
      async () => {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('targets');
        return (
          activeTargets.length === 2 &&
          activeTargets.every((t) => t.health === 'up' && t.lastError === '')
        );
      },
      30_000,
      'both targets up',
    );
    const { activeTargets } = await api<{ activeTargets: Target[] }>('targets');
    expect(activeTargets.map((t) => t.labels.job).sort()).toEqual([
      'switchboard-gateway',
      'switchboard-worker',
    ]);
    type Series = Array<{ metric: Record<string, string>; value: [number, string] }>;
    const query = (q: string) => api<{ result: Series }>(`query?query=${encodeURIComponent(q)}`);
    await until(
      async () =>
        (await query('switchboard_queue_jobs{queue="delivery",state="wait"}')).result.length === 2,
      30_000,
      'switchboard_queue_jobs from both jobs',
    );
    const sockets = await query('sum(switchboard_sockets_connected)');
    expect(sockets.result).toHaveLength(1);
    expect(Number(sockets.result[0]?.value[1])).toBe(0);
    // The default process metrics, under their standard names, from both processes.
    const memory = await query('process_resident_memory_bytes{job=~"switchboard-.*"}');
    expect(memory.result.map((s) => s.metric.job).sort()).toEqual([
      'switchboard-gateway',
      'switchboard-worker',
    ]);
  }, 70_000);
});
