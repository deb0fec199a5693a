/**
 * The benchmark charts: SVG files next to the results they draw (bench/results/<name>.svg), made
 * from those JSON files alone. `npm run bench` writes them after its scenarios and `npm run docs`
 * rewrites them, so a chart the docs show is never drawn or copied by hand; test/docs checks the
 * committed ones are what the committed results give. (The soak draws its own chart over time,
 * bench/results/soak.svg, from figures it keeps per minute.)
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { barChartSvg, chartSvg, type Bar, type Series } from '../../bench/lib/svg-chart';
import { resultReader, type ResultReader } from './figures';
import { BENCH_RESULTS_DIR } from './paths';

interface Chart {
  /** The scenario's result file, `<scenario>.json`; a run's suffix goes before `.json`. */
  file: string;
  render(read: ResultReader, file: string): string;
}

/** The e2e rising-rate paths, as the chart's legend names them. */
const RATE_PATHS: ReadonlyArray<[key: string, label: string]> = [
  ['emitter', 'redis-emitter'],
  ['queued', 'queued (EventManager)'],
  ['http', 'POST /api/events'],
];

function e2eRates(read: ResultReader, file: string): string {
  const e2e = read(file);
  const steps = e2e.array('risingRate.perStep').map((_, i) => `risingRate.perStep.${i}`);
  const series = (field: 'p99' | 'p50'): Series[] =>
    RATE_PATHS.map(([key, label]) => ({
      name: label,
      points: steps.flatMap((at): Array<[number, number]> => {
        const y = e2e.optionalNumber(`${at}.${key}.${field}`);
        return y === undefined ? [] : [[e2e.number(`${at}.rate`), y]];
      }),
    })).filter((s) => s.points.length > 0);
  const clients = e2e.number('setup.clients');
  return chartSvg(
    [
      {
        title: `Delivery p99 against rate, ${clients} clients in one room (${e2e.runTime()})`,
        yLabel: 'p99 ms (log scale)',
        series: series('p99'),
        logY: true,
        dots: true,
      },
      {
        title: 'Delivery p50 against rate',
        yLabel: 'p50 ms (log scale)',
        series: series('p50'),
        logY: true,
        dots: true,
      },
    ],
    'events/s (each path stops at its first step not sustained)',
  );
}

function intakeCost(read: ResultReader, file: string): string {
  const intake = read(file);
  const targets = intake.array('targets').map((_, i) => `targets.${i}`);
  const bars = (field: string): Bar[] =>
    targets.map((at) => ({
      label: intake.string(`${at}.target`),
      value: intake.number(`${at}.${field}`),
    }));
  return barChartSvg([
    {
      title: `Intake: gateway CPU per event (${intake.runTime()})`,
      xLabel: 'µs of gateway CPU per event (a batch request: per event of it)',
      bars: bars('cpuUsPerEvent'),
    },
    {
      title: 'Intake: requests answered per second',
      xLabel: 'requests/s',
      bars: bars('requestsPerSec'),
    },
  ]);
}

function connectionCost(read: ResultReader, file: string): string {
  const conn = read(file);
  const both = (dotted: string, unit: string): Bar[] =>
    (['gateway', 'bare'] as const).map((t) => ({
      label: `${t === 'bare' ? 'bare Socket.IO' : 'gateway'} (${unit})`,
      value: conn.number(`${dotted}.${t}`),
    }));
  const panels = [
    {
      title: `Memory per idle, joined connection (${conn.runTime()})`,
      xLabel: 'KiB of RSS per connection',
      bars: both('summary.rssPerConnectionKiB', 'KiB'),
    },
    {
      title: 'Paced connects',
      xLabel: 'connections joined per second',
      bars: both('summary.connectRatePerSec', 'per s'),
    },
  ];
  if (conn.get('summary.storm') !== undefined) {
    const n = conn.number('summary.storm.connections');
    panels.push(
      {
        title: `Connect storm: ${n} clients at once`,
        xLabel: 'connections joined per second',
        bars: both('summary.storm.connectsPerSec', 'per s'),
      },
      {
        title: 'Connect storm: server CPU per handshake',
        xLabel: 'µs of server CPU per connect + join',
        bars: both('summary.storm.serverCpuUsPerHandshake', 'µs'),
      },
    );
  }
  return barChartSvg(panels);
}

/** Chart file name (without `.svg`) -> what it draws. */
export const CHARTS: Readonly<Record<string, Chart>> = {
  'e2e-rates': { file: 'e2e.json', render: e2eRates },
  intake: { file: 'intake.json', render: intakeCost },
  connections: { file: 'connections.json', render: connectionCost },
};

/**
 * Absolute path -> SVG for each chart whose result file is there for one run: `suffix` names a
 * variant (`.quick`, `.<tag>`), whose charts are drawn from its own files and carry its suffix.
 */
export function chartsOfRun(
  dir: string,
  suffix: string,
  read = resultReader(dir),
): Map<string, string> {
  const charts = new Map<string, string>();
  for (const [name, chart] of Object.entries(CHARTS)) {
    const file = chart.file.replace(/\.json$/, `${suffix}.json`);
    if (!existsSync(path.join(dir, file))) continue;
    charts.set(path.join(dir, `${name}${suffix}.svg`), chart.render(read, file));
  }
  return charts;
}

/** The charts of every committed run: the latest (`<scenario>.json`) and each tagged variant. */
export function generatedCharts(dir = BENCH_RESULTS_DIR): Map<string, string> {
  const read = resultReader(dir);
  const suffixes = new Set<string>();
  const scenarios = new Set(Object.values(CHARTS).map((c) => c.file.replace(/\.json$/, '')));
  for (const file of readdirSync(dir)) {
    const m = /^([a-z0-9-]+)((?:\.[a-z0-9-]+)?)\.json$/.exec(file);
    if (m && scenarios.has(m[1] ?? '') && m[2] !== '.quick') suffixes.add(m[2] ?? '');
  }
  const charts = new Map<string, string>();
  for (const suffix of [...suffixes].sort())
    for (const [file, svg] of chartsOfRun(dir, suffix, read)) charts.set(file, svg);
  return charts;
}
