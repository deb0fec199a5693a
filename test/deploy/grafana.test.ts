import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { declared, metricNames } from '../helpers/promql';
import { ROOT, Stack } from '../helpers/stack';

const run = promisify(execFile);
const DASHBOARD = path.join(ROOT, 'deploy/grafana/switchboard.json');
const PROMTOOL = '/usr/bin/promtool';

interface Panel {
  id: number;
  type: string;
  title: string;
  panels?: Panel[];
  targets?: Array<{ expr: string; refId: string }>;
}

/**
 * deploy/grafana/switchboard.json: valid JSON with the panels the deployment needs, and every metric
 * an expression reads is one a real gateway or worker serves (their /metrics, prom-client's default
 * process metrics included); every expression is valid PromQL (promtool, with Grafana's
 * $__rate_interval as 5m), and its job selectors match deploy/prometheus/prometheus.yml.
 */
describe('deploy/grafana/switchboard.json', () => {
  const stack = new Stack();
  afterAll(() => stack.close());

  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    title: string;
    uid: string;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query: string }> };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('is a dashboard with a Prometheus data source and unique panel ids', () => {
    expect(dashboard.title).toBe('Switchboard');
    expect(dashboard.uid).toBe('switchboard');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(exprs.length).toBeGreaterThan(15);
  });

  it('shows accept rate, delivery p99, backlog, slow consumers, Redis errors, HTTP p99 by route, CPU and memory', () => {
    const all = exprs.join('\n');
    for (const wanted of [
      /rate\(switchboard_events_accepted_total/,
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(switchboard_delivery_seconds_bucket/,
      /switchboard_queue_jobs/,
      /switchboard_socket_disconnects_total\{reason="slow_consumer"\}/,
      /switchboard_redis_connection_errors_total/,
      /histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(switchboard_http_request_duration_seconds_bucket/,
      /process_cpu_seconds_total/,
      /process_resident_memory_bytes/,
    ])
      expect(all).toMatch(wanted);
  });

  it('reads only metrics a real gateway or worker serves', async () => {
    const gw = await stack.gateway();
    const worker = await stack.worker();
    const served = new Set([
      ...declared(await (await fetch(stack.url(gw, '/metrics'))).text()),
      ...declared(await worker.metrics.text()),
    ]);
    const used = [...new Set(exprs.flatMap(metricNames))];
    expect(used).toEqual(expect.arrayContaining(['process_cpu_seconds_total']));
    expect(used.filter((name) => !served.has(name))).toEqual([]);
    // The extraction itself: a name it should find, and none it should not.
    expect(
      metricNames('sum by (le, route) (rate(x_bucket{a="b c"}[5m])) and y offset 1h > 0'),
    ).toEqual(['x_bucket', 'y']);
  });

  it('is valid PromQL selecting the jobs prometheus.yml scrapes', async () => {
    if (!existsSync(PROMTOOL))
      throw new Error(`no ${PROMTOOL}: run scripts/ensure-prometheus.sh (npm test does)`);
    const jobs = [
      ...readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8').matchAll(
        /job_name: (\S+)/g,
      ),
    ].map((m) => m[1]!);
    for (const [, pattern] of exprs.join('\n').matchAll(/job=~"([^"]+)"/g))
      expect(jobs.filter((j) => new RegExp(`^(?:${pattern})$`).test(j))).toEqual(jobs);
    // Each expression as a recording rule: promtool parses them all.
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-grafana-'));
    try {
      const file = path.join(dir, 'exprs.yml');
      const rules = exprs.map(
        (e, i) =>
          `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '5m'))}`,
      );
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const { stdout } = await run(PROMTOOL, ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
