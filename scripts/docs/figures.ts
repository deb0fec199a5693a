/**
 * The benchmark figures of the docs. A page holds them between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->`; `npm run docs` replaces what is in between with FIGURE_BLOCKS[NAME],
 * rendered from the result files of bench/results/ the block names. Nothing between the markers is
 * written by hand, and no figure outside them comes from a benchmark.
 */
import { BenchResult } from './bench-result';
import { code, table } from './markdown';

/** Result files by name, each read once per generation. */
export type ResultReader = (file: string) => BenchResult;

export function resultReader(dir?: string): ResultReader {
  const cache = new Map<string, BenchResult>();
  return (file) => {
    let result = cache.get(file);
    if (!result) {
      result = BenchResult.load(file, dir);
      cache.set(file, result);
    }
    return result;
  };
}

export interface FigureBlock {
  /** The result files it reads, in the order its source list names them. */
  files: readonly string[];
  /** The block's Markdown, without the source list. */
  render(read: ResultReader): string;
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const n = (value: number): string => numberFormat.format(value);
const opt = (value: number | undefined): string => (value === undefined ? '–' : n(value));
const pair = (a: number | undefined, b: number | undefined): string => `${opt(a)} / ${opt(b)}`;
const met = (value: boolean): string => (value ? 'met' : 'not met');
/** A description a bench wrote in lower case, as a sentence of the page. */
const sentence = (text: string): string =>
  `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};
const numbers = (values: unknown[]): number[] =>
  values.map((value) => {
    if (typeof value !== 'number')
      throw new Error(`expected numbers, got ${JSON.stringify(value)}`);
    return value;
  });
const range = (values: readonly number[]): string =>
  values.length === 0 ? '–' : `${n(Math.min(...values))}–${n(Math.max(...values))}`;

/** The paths of the e2e bench, as its tables name them. */
const E2E_PATHS: readonly [key: string, label: string][] = [
  ['queued', 'queued (EventManager -> BullMQ batch -> worker)'],
  ['http', '`POST /api/events`, one event a request'],
  ['http-batch', '`POST /api/events/batch`, one request per producer tick'],
  ['emitter', '`@socket.io/redis-emitter` straight into the gateway'],
];

function e2eFixedRate(read: ResultReader): string {
  const e2e = read('e2e.json');
  const fixed = 'fixedRate';
  const rows = E2E_PATHS.filter(([key]) => e2e.get(`${fixed}.${key}`) !== undefined).map(
    ([key, label]) => {
      const at = (field: string) => e2e.optionalNumber(`${fixed}.${key}.${field}`);
      return [
        label,
        pair(at('p50'), at('p99')),
        pair(at('acceptedP50'), at('acceptedP99')),
        opt(at('cost.workerCpuUsPerEvent')),
        pair(at('cost.redisCpuUsPerEvent'), at('cost.redisCommandsPerEvent')),
        opt(at('cost.eventsPerJob')),
        opt(at('cpuPctMedian.machine')),
        opt(at('lost')),
      ];
    },
  );
  const rate = e2e.number(`${fixed}.rate`);
  const target = e2e.number(`${fixed}.target.queuedP99WithinXOfEmitter`);
  return [
    `${n(rate)} events/s for ${n(e2e.number(`${fixed}.durationS`))} s to ${n(e2e.number('setup.clients'))} clients in one room (${n(e2e.number(`${fixed}.deliveriesPerRun`))} deliveries a run). ${sentence(e2e.string(`${fixed}.note`))}`,
    '',
    table(
      [
        'path',
        'p50 / p99 ms',
        'accept p50 / p99 ms',
        'worker µs per event',
        'Redis µs / commands per event',
        'events per job',
        'machine CPU % (of 200)',
        'lost',
      ],
      rows,
    ),
    '',
    `p99 queued / emitter: **${n(e2e.number(`${fixed}.ratio.p99`))}x** (target ${n(target)}x: ${met(e2e.boolean(`${fixed}.target.met`))}).`,
    `Highest rate sustained: queued **${n(e2e.number('risingRate.maxSustainedRate.queued'))}/s**, emitter ${n(e2e.number('risingRate.maxSustainedRate.emitter'))}/s (${e2e.string('risingRate.criterion')}).`,
  ].join('\n');
}

function e2eSteps(read: ResultReader): string {
  const e2e = read('e2e.json');
  const steps = e2e.array('risingRate.perStep').map((_, i) => {
    const at = (field: string) => e2e.get(`risingRate.perStep.${i}.${field}`);
    const path = (name: string) => {
      const sustained = at(`${name}.sustained`);
      const p99 = at(`${name}.p99`);
      if (typeof sustained !== 'boolean') return 'not run';
      return `${typeof p99 === 'number' ? n(p99) : '–'} ms${sustained ? '' : ' (not sustained)'}`;
    };
    const eventsPerJob = at('queued.eventsPerJob');
    return [
      `${n(e2e.number(`risingRate.perStep.${i}.rate`))}/s`,
      path('queued'),
      typeof eventsPerJob === 'number' ? n(eventsPerJob) : '–',
      path('emitter'),
    ];
  });
  return table(['rate', 'queued p99', 'queued events per job', 'emitter p99'], steps);
}

/** The e2e result files side by side: the latest, a later tagged run, and the runs before changes. */
const E2E_RUNS = [
  'e2e.json',
  'e2e.layout.json',
  'e2e.naming.json',
  'e2e.intake.json',
  'e2e.no-handlers.json',
  'e2e.baseline.json',
];

function e2eRuns(read: ResultReader): string {
  const rows = E2E_RUNS.map((file) => {
    const r = read(file);
    return [
      code(file),
      r.runTime().slice(0, 10),
      n(r.number('fixedRate.rate')),
      pair(r.number('fixedRate.queued.p50'), r.number('fixedRate.queued.p99')),
      pair(r.number('fixedRate.emitter.p50'), r.number('fixedRate.emitter.p99')),
      `${n(r.number('fixedRate.ratio.p99'))}x`,
      pair(r.optionalNumber('fixedRate.http.p50'), r.optionalNumber('fixedRate.http.p99')),
      pair(
        r.number('risingRate.maxSustainedRate.queued'),
        r.number('risingRate.maxSustainedRate.emitter'),
      ),
      pair(
        r.number('fixedRate.queued.cpuPctMedian.machine'),
        r.number('fixedRate.emitter.cpuPctMedian.machine'),
      ),
    ];
  });
  return table(
    [
      'file',
      'date',
      'fixed rate (/s)',
      'queued p50 / p99 ms',
      'emitter p50 / p99 ms',
      'p99 ratio',
      'HTTP, one event a request, p50 / p99 ms',
      'sustained queued / emitter (/s)',
      'machine CPU % queued / emitter',
    ],
    rows,
  );
}

function batching(read: ResultReader): string {
  const before = read('e2e.baseline.json');
  const after = read('e2e.json');
  const row = (label: string, r: BenchResult) => {
    const jobs = r.optionalNumber('fixedRate.queued.cost.deliveryJobs');
    const handlerJobs = r.optionalNumber('fixedRate.queued.cost.handlerJobsPerEvent');
    const jobsPerEvent =
      jobs === undefined
        ? undefined
        : jobs / r.number('fixedRate.eventsPerRun') + (handlerJobs ?? 0);
    return [
      label,
      pair(r.number('fixedRate.queued.p50'), r.number('fixedRate.queued.p99')),
      opt(r.number('fixedRate.queued.cpuPctMedian.worker')),
      opt(r.number('fixedRate.queued.cpuPctMedian.redis')),
      opt(r.optionalNumber('fixedRate.queued.cost.workerCpuUsPerEvent')),
      jobsPerEvent === undefined ? '–' : n(jobsPerEvent),
      opt(r.optionalNumber('fixedRate.queued.cost.eventsPerJob')),
    ];
  };
  const validation = read('validation.json');
  return [
    `Queued path at ${n(after.number('fixedRate.rate'))} events/s:`,
    '',
    table(
      [
        'run',
        'p50 / p99 ms',
        'worker % of a core',
        'Redis % of a core',
        'worker µs per event',
        'BullMQ jobs per event',
        'events per job',
      ],
      [
        row(`before batches (${code(before.file)})`, before),
        row(`with batches (${code(after.file)})`, after),
      ],
    ),
    '',
    `Re-validating a batch in the worker (${code(validation.file)}, ${n(validation.number('setup.batchSize'))} events a batch): ${n(validation.number('usPerEvent.always'))} µs per event with \`WORKER_VALIDATE=always\` against ${n(validation.number('usPerEvent.sameCatalogVersion'))} µs when the catalog version matches (${n(validation.number('extraUsPerEventToRevalidate'))} µs more).`,
  ].join('\n');
}

function throughput(read: ResultReader): string {
  const rows = ['throughput.json', 'throughput.layout.json'].map((file) => {
    const r = read(file);
    return [
      code(file),
      `**${n(r.number('queued.deliveredPerSec'))}**`,
      n(r.number('emitter.deliveredPerSec')),
      n(r.number('ratio.deliveredPerSec')),
      opt(r.number('queued.cost.workerCpuUsPerEvent')),
      pair(
        r.number('queued.cost.redisCpuUsPerEvent'),
        r.number('queued.cost.redisCommandsPerEvent'),
      ),
      opt(r.number('queued.cost.eventsPerJob')),
      pair(r.number('queued.cpuPctMedian.worker'), r.number('queued.cpuPctMedian.redis')),
      `${n(r.number('target.queuedDeliveredPerSecAtLeast'))}: ${met(r.boolean('target.met'))}`,
    ];
  });
  return table(
    [
      'file',
      'queued events/s delivered',
      'emitter events/s',
      'queued / emitter',
      'worker µs per event',
      'Redis µs / commands per event',
      'events per job',
      'worker / Redis CPU %',
      'target (events/s)',
    ],
    rows,
  );
}

function throttle(read: ResultReader): string {
  const rows = ['throttle.json', 'throttle.layout.json', 'throttle.baseline.json'].map((file) => {
    const r = read(file);
    return [
      code(file),
      `${n(r.number('accepted'))} of ${n(r.number('offered'))}`,
      n(r.number('acceptedPerSecond')),
      `${pair(r.number('acceptLatencyMs.p50'), r.number('acceptLatencyMs.p99'))} (max ${n(r.number('acceptLatencyMs.max'))})`,
      pair(r.number('redisCommandsPerLike'), r.number('clientCommandsPerLike')),
      `${n(r.number('windows'))} / ${n(r.number('emits'))}`,
      r.boolean('everyWindowEmittedOnce') ? 'yes' : 'no',
    ];
  });
  return [
    sentence(read('throttle.json').string('scenario')),
    '',
    table(
      [
        'file',
        'accepted',
        'accepted/s',
        'accept p50 / p99 ms',
        'Redis / client commands per like',
        'windows / emits',
        'every window emitted once',
      ],
      rows,
    ),
  ].join('\n');
}

const SLOW_CONSUMER_RUNS = [
  'slow-consumers.json',
  'slow-consumers.pre-layout.json',
  'slow-consumers.layout.json',
  'slow-consumers.layout-rerun.json',
];

function slowConsumers(read: ResultReader): string {
  const rows = SLOW_CONSUMER_RUNS.map((file) => {
    const r = read(file);
    const s = 'summary';
    const closed = numbers(r.array(`${s}.withStalled.gatewayClosed`));
    const closedAt = r
      .array(`${s}.withStalled.closedAtS`)
      .flatMap((run) => numbers(run as unknown[]));
    const stalled = r.number('setup.stalledClients');
    return [
      code(file),
      r.runTime().slice(0, 10),
      pair(r.number(`${s}.withStalled.healthyP99`), r.number(`${s}.withoutStalled.healthyP99`)),
      `${n(r.number(`${s}.healthyP99Ratio`))}x`,
      closed.map((c) => `${n(c)}/${n(stalled)}`).join(', '),
      range(closedAt),
      n(r.number(`${s}.withStalled.rssGrowthMiB`)),
      `${n(r.number(`${s}.noCap.rssGrowthMiB`))} in ${n(r.number(`${s}.noCap.durationS`))} s (late slope ${n(r.number(`${s}.noCap.lateSlopeMiBPerS`))} MiB/s), ${n(r.number(`${s}.noCap.gatewayClosed`))} closed`,
    ];
  });
  const latest = read('slow-consumers.json');
  return [
    `${n(latest.number('setup.healthyClients'))} healthy and ${n(latest.number('setup.stalledClients'))} stalled clients in one room, ${n(latest.number('setup.rate'))} events/s for ${n(latest.number('setup.runDurationS'))} s, frames of ${n(latest.number('summary.messageBytes'))} bytes, medians of ${n(latest.number('setup.repeats'))} runs. Targets: RSS growth under 64 MiB, every stalled client closed, healthy p99 within 1.2x of the run without stalled clients.`,
    '',
    table(
      [
        'file',
        'date',
        'healthy p99 ms with / without stalled',
        'ratio',
        'stalled closed (per run)',
        'closed at s',
        'RSS growth MiB (1 MiB cap)',
        'without the cap (1 GiB): RSS growth MiB',
      ],
      rows,
    ),
  ].join('\n');
}

function connections(read: ResultReader): string {
  const rows = ['connections.json', 'connections.layout.json'].map((file) => {
    const r = read(file);
    const s = 'summary';
    return [
      code(file),
      `**${pair(r.number(`${s}.rssPerConnectionKiB.gateway`), r.number(`${s}.rssPerConnectionKiB.bare`))}**`,
      pair(
        r.number(`${s}.heapSnapshotBytesPerConnection.gateway`),
        r.number(`${s}.heapSnapshotBytesPerConnection.bare`),
      ),
      pair(r.number(`${s}.connectRatePerSec.gateway`), r.number(`${s}.connectRatePerSec.bare`)),
      pair(
        r.number('rss.gateway.serverCpuUsPerConnection'),
        r.number('rss.bare.serverCpuUsPerConnection'),
      ),
      `at most ${n(r.number(`${s}.target.maxKiBPerConnection`))} KiB: ${met(r.boolean(`${s}.target.met`))}; goal ${n(r.number(`${s}.target.goalKiB`))}: ${met(r.boolean(`${s}.target.goalMet`))}`,
    ];
  });
  const latest = read('connections.json');
  const storm = 'summary.storm';
  return [
    `${n(latest.number('setup.connections'))} websocket connections, each with its own JWT and joined to an order room; the gateway beside a bare Socket.IO server in the same run.`,
    '',
    table(
      [
        'file',
        'RSS KiB per connection, gateway / bare',
        'V8 heap bytes per connection, gateway / bare',
        'joins/s, gateway / bare',
        'server CPU µs per connection, gateway / bare',
        'target',
      ],
      rows,
    ),
    '',
    `Connect storm (${code(latest.file)}): ${n(latest.number(`${storm}.connections`))} clients start connecting at the same moment, each with ${n(latest.number(`${storm}.withinS`))} s to connect and join.`,
    '',
    table(
      ['', 'gateway', 'bare Socket.IO'],
      [
        [
          'joined',
          ...(['gateway', 'bare'] as const).map(
            (t) =>
              `${n(latest.number(`${storm}.joined.${t}`))} (${n(latest.number(`${storm}.failed.${t}`))} failed)`,
          ),
        ],
        [
          'all joined in, s',
          ...(['gateway', 'bare'] as const).map((t) => n(latest.number(`${storm}.wallS.${t}`))),
        ],
        [
          'connects/s',
          ...(['gateway', 'bare'] as const).map((t) =>
            n(latest.number(`${storm}.connectsPerSec.${t}`)),
          ),
        ],
        [
          'server CPU µs per handshake',
          ...(['gateway', 'bare'] as const).map((t) =>
            n(latest.number(`${storm}.serverCpuUsPerHandshake.${t}`)),
          ),
        ],
      ],
    ),
    '',
    `Every client joined within ${n(latest.number(`${storm}.withinS`))} s: ${met(latest.boolean(`${storm}.met`))}; server CPU per handshake ${n(latest.number(`${storm}.serverCpuUsPerHandshake.ratio`))}x the bare server's.`,
  ].join('\n');
}

function replay(read: ResultReader): string {
  const rows = ['replay.before.json', 'replay.json', 'replay.layout.json'].map((file) => {
    const r = read(file);
    return [
      code(file),
      r.runTime().slice(0, 10),
      `${pair(r.number('healthz.p50'), r.number('healthz.p99'))} (max ${n(r.number('healthz.max'))})`,
      `${n(r.number('healthz.samples'))} in ${n(r.number('elapsedS'))} s`,
      n(r.number('rejoins')),
      n(r.number('receivedMiB')),
      n(r.number('receivedMiB') / r.number('elapsedS')),
    ];
  });
  const latest = read('replay.json');
  return [
    `A chat of ${n(latest.number('history.events'))} messages of ${n(latest.number('options.contentBytes'))} characters (${n(latest.number('history.contentMiB'))} MiB of history); ${n(latest.number('options.sockets'))} sockets re-join it with \`since\` for ${n(latest.number('options.durationS'))} s while \`/healthz\` is polled back to back.`,
    '',
    table(
      [
        'file',
        'date',
        '/healthz p50 / p99 ms',
        '/healthz answers',
        're-joins',
        'MiB replayed',
        'MiB/s replayed',
      ],
      rows,
    ),
  ].join('\n');
}

function cluster(read: ResultReader): string {
  const rows = ['cluster.json', 'cluster.layout.json'].map((file) => {
    const r = read(file);
    return [
      code(file),
      r.runTime().slice(0, 10),
      `**${n(r.number('cluster.deliveredPerSec'))}**`,
      n(r.number('standalone.deliveredPerSec')),
      `${n(r.number('ratio.deliveredPerSec'))}x`,
      pair(
        r.number('cluster.cost.redisCommandsPerEvent'),
        r.number('standalone.cost.redisCommandsPerEvent'),
      ),
    ];
  });
  return table(
    [
      'file',
      'date',
      'events/s, 3-master cluster',
      'events/s, one redis-server',
      'cluster / one',
      'Redis commands per event, cluster / one',
    ],
    rows,
  );
}

/** The soak's minutes that saw a fault begin. */
function faultMinutes(soak: BenchResult): Set<number> {
  return new Set(
    soak.array('faults').map((_, i) => Math.floor(soak.number(`faults.${i}.atMinute`))),
  );
}

function soakTotals(read: ResultReader): string {
  const soak = read('soak.json');
  const calibration = soak.array('calibration').map((_, i) => {
    const at = (field: string) => `calibration.${i}.${field}`;
    return [
      `${n(soak.number(at('rate')))}/s`,
      pair(soak.number(at('p50Ms')), soak.number(at('p99Ms'))),
      `${n(soak.number(at('accepted')))} / ${n(soak.number(at('refused')))} / ${n(soak.number(at('missing')))}`,
      soak.boolean(at('sustained')) ? 'yes' : 'no',
    ];
  });
  const faulty = faultMinutes(soak);
  const quietP99: number[] = [];
  const faultP99: number[] = [];
  soak.array('minutes').forEach((_, i) => {
    const p99 = soak.number(`minutes.${i}.p99Ms`);
    (faulty.has(soak.number(`minutes.${i}.minute`)) ? faultP99 : quietP99).push(p99);
  });
  const t = 'totals';
  return [
    `Calibration (a rate is sustained while its p99 stays under ${n(soak.number('options.sustainedP99Ms'))} ms):`,
    '',
    table(['rate', 'p50 / p99 ms', 'accepted / refused / missing', 'sustained'], calibration),
    '',
    table(
      ['run', 'figure'],
      [
        [
          'rate, duration, faults',
          `${n(soak.number('ratePerSec'))} events/s (highest sustained: ${n(soak.number('highestSustainedPerSec'))}/s) for ${n(soak.number('options.durationS') / 60)} min, a fault every ${n(soak.number('options.faultEveryS') / 60)} min`,
        ],
        [
          'clients',
          `${n(soak.number('options.clients'))} in ${n(soak.number('options.rooms'))} rooms`,
        ],
        [
          'sent / accepted / refused',
          `${n(soak.number(`${t}.sent`))} / ${n(soak.number(`${t}.accepted`))} / ${n(soak.number(`${t}.refused`))}`,
        ],
        [
          'lost / duplicated',
          `**${n(soak.number(`${t}.lost`))} / ${n(soak.number(`${t}.duplicated`))}** (${n(soak.number(`${t}.excusedAroundDataLoss`))} excused around the data loss)`,
        ],
        [
          'latency over the run, p50 / p99 ms',
          pair(soak.number(`${t}.latency.p50`), soak.number(`${t}.latency.p99`)),
        ],
        [
          'p99 per minute without a fault, median (max) ms',
          `${n(median(quietP99))} (${n(Math.max(...quietP99))})`,
        ],
        ['worst p99 of a minute with a fault, ms', n(Math.max(...faultP99))],
        ['unhandled or uncaught log lines', n(soak.array('unhandledLines').length)],
      ],
    ),
  ].join('\n');
}

function soakFaults(read: ResultReader): string {
  const soak = read('soak.json');
  const rows = soak.array('faults').map((_, i) => {
    const at = (field: string) => `faults.${i}.${field}`;
    const note = soak.get(at('note'));
    return [
      soak.string(at('fault')),
      n(soak.number(at('atMinute'))),
      opt(soak.optionalNumber(at('readyDownMs'))),
      n(soak.number(at('readyBackMs'))),
      typeof note === 'string' ? note : '',
    ];
  });
  return table(['fault', 'at minute', '/readyz down after ms', 'back after ms', 'note'], rows);
}

function soakMemory(read: ResultReader): string {
  const soak = read('soak.json');
  const growthRows = soak.keys('rssGrowth').flatMap((process) =>
    soak.array(`rssGrowth.${process}`).map((_, i) => {
      const at = (field: string) => `rssGrowth.${process}.${i}.${field}`;
      const growth = soak.optionalNumber(at('growthPct'));
      return [
        code(process),
        soak.string(at('life')),
        growth === undefined
          ? ((soak.get(at('note')) as string | undefined) ?? '–')
          : `${n(soak.number(at('fromMiB')))} -> ${n(soak.number(at('toMiB')))} MiB (${growth > 0 ? '+' : ''}${n(growth)} %)`,
      ];
    }),
  );
  const minutes = soak.array('minutes').map((_, i) => i);
  const heapProcesses = soak.keys('minutes.0.heapTotalMiB');
  const heapRows = heapProcesses.map((process) => {
    const series = (field: string) =>
      minutes.flatMap((i) => {
        const value = soak.optionalNumber(`minutes.${i}.${field}.${process}`);
        return value === undefined ? [] : [value];
      });
    return [
      code(process),
      range(series('heapTotalMiB')),
      range(series('heapUsedMiB')),
      range(series('outsideHeapMiB')),
    ];
  });
  return [
    `RSS growth from minutes 5-7 to the last 3 of each process's life (target under 5 % on every process: ${met(soak.boolean('rssGrowthUnder5Pct'))}):`,
    '',
    table(['process', 'life', 'RSS'], growthRows),
    '',
    'Over the minutes of the run (MiB, lowest–highest):',
    '',
    table(['process', 'V8 heap total', 'V8 heap used', 'RSS outside the V8 heap'], heapRows),
  ].join('\n');
}

function summary(read: ResultReader): string {
  const e2e = read('e2e.json');
  const tp = read('throughput.json');
  const th = read('throttle.json');
  const sc = read('slow-consumers.json');
  const cn = read('connections.json');
  const cl = read('cluster.json');
  const rp = read('replay.json');
  const so = read('soak.json');
  const q = 'fixedRate.queued';
  const em = 'fixedRate.emitter';
  const rows: [BenchResult, string][] = [
    [
      e2e,
      `${n(e2e.number('fixedRate.rate'))} events/s to ${n(e2e.number('setup.clients'))} clients: queued p50 / p99 ${pair(e2e.number(`${q}.p50`), e2e.number(`${q}.p99`))} ms, emitter ${pair(e2e.number(`${em}.p50`), e2e.number(`${em}.p99`))} ms; highest sustained ${n(e2e.number('risingRate.maxSustainedRate.queued'))}/s queued, ${n(e2e.number('risingRate.maxSustainedRate.emitter'))}/s emitter`,
    ],
    [
      tp,
      `one client as fast as possible: queued ${n(tp.number('queued.deliveredPerSec'))} events/s, emitter ${n(tp.number('emitter.deliveredPerSec'))}/s`,
    ],
    [
      th,
      `one hot key, ${n(th.number('acceptedPerSecond'))} likes/s accepted: accept p50 / p99 ${pair(th.number('acceptLatencyMs.p50'), th.number('acceptLatencyMs.p99'))} ms, ${n(th.number('redisCommandsPerLike'))} Redis commands per like, ${n(th.number('windows'))} windows, ${n(th.number('emits'))} emits`,
    ],
    [
      sc,
      `healthy clients' p99 ${n(sc.number('summary.withStalled.healthyP99'))} ms beside stalled ones, ${n(sc.number('summary.withoutStalled.healthyP99'))} ms without (${n(sc.number('summary.healthyP99Ratio'))}x); gateway RSS +${n(sc.number('summary.withStalled.rssGrowthMiB'))} MiB with the cap, +${n(sc.number('summary.noCap.rssGrowthMiB'))} MiB without`,
    ],
    [
      cn,
      `${n(cn.number('summary.rssPerConnectionKiB.gateway'))} KiB of RSS per connection (bare Socket.IO: ${n(cn.number('summary.rssPerConnectionKiB.bare'))}); ${n(cn.number('summary.connectRatePerSec.gateway'))} joins/s (bare: ${n(cn.number('summary.connectRatePerSec.bare'))})`,
    ],
    [
      cl,
      `${n(cl.number('cluster.deliveredPerSec'))} events/s on 3 masters, ${n(cl.number('standalone.deliveredPerSec'))} on one redis-server`,
    ],
    [
      rp,
      `\`/healthz\` p99 ${n(rp.number('healthz.p99'))} ms while ${n(rp.number('options.sockets'))} sockets replay a ${n(rp.number('history.contentMiB'))} MiB history`,
    ],
    [
      so,
      `${n(so.number('options.durationS') / 60)} min of production topology with faults: ${n(so.number('totals.accepted'))} accepted, ${n(so.number('totals.lost'))} lost, ${n(so.number('totals.duplicated'))} duplicated`,
    ],
  ];
  return table(
    ['file', 'run', 'headline'],
    rows.map(([r, headline]) => [code(r.file), r.runTime(), headline]),
  );
}

/** What one gateway and one worker carry (docs/scaling.md), from the same files. */
function capacity(read: ResultReader): string {
  const cn = read('connections.json');
  const e2e = read('e2e.json');
  const tp = read('throughput.json');
  const q = 'fixedRate.queued';
  return table(
    ['one process', 'measured'],
    [
      [
        'gateway: connections',
        `${n(cn.number('setup.connections'))} websocket connections at ${n(cn.number('summary.rssPerConnectionKiB.gateway'))} KiB of RSS each; ${n(cn.number('summary.connectRatePerSec.gateway'))} connections/s joined, JWT checks included (${code(cn.file)})`,
      ],
      [
        'gateway: fan-out',
        `${n(e2e.number('fixedRate.rate'))} events/s to ${n(e2e.number('setup.clients'))} clients in one room (${n(e2e.number(`${q}.deliveredPerSec`))} deliveries/s), p99 ${n(e2e.number(`${q}.p99`))} ms on the queued path (${code(e2e.file)})`,
      ],
      [
        'worker: throughput',
        `${n(tp.number('queued.deliveredPerSec'))} events/s to one client, ${n(tp.number('queued.cost.eventsPerJob'))} events per job (${code(tp.file)})`,
      ],
      [
        'worker: cost',
        `${n(e2e.number(`${q}.cost.workerCpuUsPerEvent`))} µs of CPU per event at ${n(e2e.number('fixedRate.rate'))}/s, ${n(e2e.number(`${q}.cost.eventsPerJob`))} events per batch (${code(e2e.file)}); ${n(tp.number('queued.cost.workerCpuUsPerEvent'))} µs with full batches (${code(tp.file)})`,
      ],
    ],
  );
}

/** The intake scenario: gateway CPU per publish request beside a bare node:http server's. */
function intake(read: ResultReader): string {
  const r = read('intake.json');
  const rows = r.array('targets').map((_, i) => {
    const at = (key: string) => `targets.${i}.${key}`;
    return [
      r.string(at('target')),
      n(r.number(at('requestsPerSec'))),
      `**${n(r.number(at('cpuUsPerRequest')))}**`,
      n(r.number(at('cpuUsPerEvent'))),
      n(r.number(at('netCpuUsPerRequest'))),
      `**${n(r.number(at('xBare')))}**`,
      pair(r.number(at('p50Ms')), r.number(at('p99Ms'))),
    ];
  });
  return table(
    [
      'target',
      'requests/s',
      'gateway CPU µs per request',
      'µs per event',
      'net of idle',
      'x bare',
      'p50 / p99 ms',
    ],
    rows,
  );
}

function workerCost(read: ResultReader): string {
  const r = read('worker-cost.json');
  const rows = r.array('rows').map((_, i) => {
    const at = (key: string) => r.number(`rows.${i}.${key}`);
    return [
      `${n(at('rate'))}/s`,
      `${n(at('lingerMs'))} ms`,
      `**${n(at('switchboard.cpuUsPerEvent'))}**`,
      n(at('switchboard.cpuUsPerJob')),
      n(at('switchboard.eventsPerJob')),
      n(at('bullmq.cpuUsPerEvent')),
      n(at('bullmq.cpuUsPerJob')),
      `${n(Math.round(at('bullmqShareOfWorkerCpu') * 100))} %`,
    ];
  });
  return [
    `${sentence(r.string('setup.producer'))}; ${r.string('setup.consumers')}.`,
    '',
    table(
      [
        'rate',
        '`BATCH_LINGER_MS`',
        'worker CPU µs per event',
        'µs per job',
        'events per job',
        'BullMQ alone, µs per event',
        'BullMQ alone, µs per job',
        "BullMQ's share",
      ],
      rows,
    ),
    '',
    `At 300/s with the default linger: **${n(r.number('target.cpuUsPerEvent'))} µs** per event (target at most ${n(r.number('target.maxCpuUsPerEvent'))}: ${met(r.boolean('target.met'))}); BullMQ alone spends ${n(r.number('target.bullmqAloneCpuUsPerEvent'))} µs per event on the same jobs.`,
  ].join('\n');
}

export const FIGURE_BLOCKS: Readonly<Record<string, FigureBlock>> = {
  'worker-cost': { files: ['worker-cost.json'], render: workerCost },
  summary: {
    files: [
      'e2e.json',
      'throughput.json',
      'throttle.json',
      'slow-consumers.json',
      'connections.json',
      'cluster.json',
      'replay.json',
      'soak.json',
    ],
    render: summary,
  },
  e2e: { files: ['e2e.json'], render: e2eFixedRate },
  'e2e-steps': { files: ['e2e.json'], render: e2eSteps },
  'e2e-runs': { files: E2E_RUNS, render: e2eRuns },
  batching: { files: ['e2e.baseline.json', 'e2e.json', 'validation.json'], render: batching },
  throughput: { files: ['throughput.json', 'throughput.layout.json'], render: throughput },
  throttle: {
    files: ['throttle.json', 'throttle.layout.json', 'throttle.baseline.json'],
    render: throttle,
  },
  'slow-consumers': { files: SLOW_CONSUMER_RUNS, render: slowConsumers },
  connections: { files: ['connections.json', 'connections.layout.json'], render: connections },
  replay: {
    files: ['replay.before.json', 'replay.json', 'replay.layout.json'],
    render: replay,
  },
  cluster: { files: ['cluster.json', 'cluster.layout.json'], render: cluster },
  'soak-totals': { files: ['soak.json'], render: soakTotals },
  'soak-faults': { files: ['soak.json'], render: soakFaults },
  'soak-memory': { files: ['soak.json'], render: soakMemory },
  capacity: { files: ['connections.json', 'e2e.json', 'throughput.json'], render: capacity },
  intake: { files: ['intake.json'], render: intake },
};

/** Where a block's figures come from: each file with its run's time and load, grouped by machine. */
function sources(files: readonly string[], read: ResultReader): string {
  const byMachine = new Map<string, string[]>();
  for (const file of files) {
    const result = read(file);
    const load = result.load();
    const line = `- ${code(file)}: ${result.runTime()}${load ? `, ${load}` : ''}`;
    byMachine.set(result.machine(), [...(byMachine.get(result.machine()) ?? []), line]);
  }
  return [...byMachine]
    .map(([machine, lines]) => [`From \`bench/results/\`, on ${machine}:`, '', ...lines].join('\n'))
    .join('\n\n');
}

/** The block's Markdown followed by the files it came from. */
export function renderBlock(name: string, read: ResultReader): string {
  const block = FIGURE_BLOCKS[name];
  if (!block)
    throw new Error(
      `no figure block named ${name} (known: ${Object.keys(FIGURE_BLOCKS).join(', ')})`,
    );
  return [
    '<!-- generated by npm run docs from bench/results/: do not edit between these markers -->',
    block.render(read),
    '',
    sources(block.files, read),
  ].join('\n');
}

// Markers stand on lines of their own, so a page can quote one in running text.
const BLOCK = /^<!-- generated:([\w-]+) -->\n([\s\S]*?)^<!-- \/generated:([\w-]+) -->$/gm;
const OPENING = /^<!-- generated:([\w-]+) -->$/gm;

/** The names of the generated blocks a page holds, in order. */
export function blockNames(markdown: string): string[] {
  return [...markdown.matchAll(OPENING)].map((match) => match[1] ?? '');
}

/** The page with every generated block rendered afresh; an unclosed or unknown block is an error. */
export function fillGeneratedBlocks(markdown: string, read: ResultReader): string {
  let filled = 0;
  const result = markdown.replace(BLOCK, (_whole, name: string, _body: string, closing: string) => {
    if (closing !== name) throw new Error(`generated:${name} is closed by /generated:${closing}`);
    filled += 1;
    return `<!-- generated:${name} -->\n${renderBlock(name, read)}\n<!-- /generated:${name} -->`;
  });
  const opened = blockNames(markdown).length;
  if (filled !== opened)
    throw new Error(
      `${opened - filled} generated block(s) have no closing marker on a line of their own`,
    );
  return result;
}
