/**
 * Line charts as plain SVG (no plotting library: one file a browser or the README shows), for
 * figures over time such as the soak's p99 and RSS per minute.
 */

export interface Series {
  name: string;
  points: Array<[x: number, y: number]>;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Vertical markers (e.g. faults): x and a short label. */
  marks?: Array<[x: number, label: string]>;
  /** A logarithmic y axis (latencies that span milliseconds to seconds); non-positive y left out. */
  logY?: boolean;
  /** A dot on each point (a few measured steps rather than a dense series). */
  dots?: boolean;
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
  '#bcbd22',
];
const W = 900;
const H = 300;
const M = { left: 70, right: 190, top: 36, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step for about `n` ticks over `span`. */
function tickStep(span: number, n = 6): number {
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  return ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
}

function panelSvg(panel: Panel, xLabel: string, offsetY: number): string {
  const finite = panel.series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMax = Math.max(1, ...finite.map(([x]) => x), ...(panel.marks ?? []).map(([x]) => x));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + (x / xMax) * pw;
  const ys = panel.logY ? finite.map(([, y]) => y).filter((y) => y > 0) : [];
  // Log axis: from the decade below the smallest value to the one above the largest.
  const lo = panel.logY ? 10 ** Math.floor(Math.log10(Math.min(...ys, 1))) : 0;
  const yMax = panel.logY
    ? 10 ** Math.ceil(Math.log10(Math.max(...ys, lo * 10)))
    : Math.max(1e-9, ...finite.map(([, y]) => y)) * 1.1;
  const frac = (y: number) => (panel.logY ? Math.log10(y / lo) / Math.log10(yMax / lo) : y / yMax);
  const sy = (y: number) => offsetY + M.top + ph - frac(y) * ph;
  const bottom = panel.logY ? lo : 0;
  const yTicks: number[] = [];
  if (panel.logY) for (let y = lo; y <= yMax * 1.0001; y *= 10) yTicks.push(y);
  else for (let y = 0, step = tickStep(yMax); y <= yMax + 1e-9; y += step) yTicks.push(y);
  const out: string[] = [];
  out.push(
    `<text x="${M.left}" y="${offsetY + 22}" font-size="15" font-weight="bold">${esc(panel.title)}</text>`,
  );
  const xs = tickStep(xMax);
  for (let x = 0; x <= xMax + 1e-9; x += xs) {
    out.push(
      `<line x1="${sx(x)}" y1="${sy(bottom)}" x2="${sx(x)}" y2="${sy(yMax)}" stroke="#eee"/>`,
    );
    out.push(
      `<text x="${sx(x)}" y="${sy(bottom) + 16}" font-size="11" text-anchor="middle">${+x.toFixed(2)}</text>`,
    );
  }
  for (const y of yTicks) {
    out.push(
      `<line x1="${M.left}" y1="${sy(y)}" x2="${M.left + pw}" y2="${sy(y)}" stroke="#eee"/>`,
    );
    out.push(
      `<text x="${M.left - 6}" y="${sy(y) + 4}" font-size="11" text-anchor="end">${+y.toFixed(2)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${offsetY + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  );
  out.push(
    `<text x="${M.left + pw / 2}" y="${offsetY + H - 6}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
  );
  out.push(
    `<text x="16" y="${offsetY + M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${offsetY + M.top + ph / 2})">${esc(panel.yLabel)}</text>`,
  );
  for (const [x, label] of panel.marks ?? []) {
    out.push(
      `<line x1="${sx(x)}" y1="${sy(bottom)}" x2="${sx(x)}" y2="${sy(yMax)}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${sx(x) + 3}" y="${offsetY + M.top + 10}" font-size="10" fill="#555">${esc(label)}</text>`,
    );
  }
  panel.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const pts = s.points.filter(
      ([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!panel.logY || y > 0),
    );
    if (pts.length > 0) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
      if (panel.dots)
        for (const [x, y] of pts)
          out.push(
            `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`,
          );
    }
    const ly = offsetY + M.top + 12 + i * 16;
    out.push(
      `<line x1="${W - M.right + 12}" y1="${ly - 4}" x2="${W - M.right + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${W - M.right + 38}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Panels stacked vertically, sharing the x axis label. */
export function chartSvg(panels: Panel[], xLabel: string): string {
  const body = panels.map((p, i) => panelSvg(p, xLabel, i * H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * panels.length}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}

export interface Bar {
  label: string;
  value: number;
}

export interface BarPanel {
  title: string;
  /** What a bar's length measures, with its unit. */
  xLabel: string;
  bars: Bar[];
}

const BAR_H = 26;
const BAR_LABEL_W = 300;

function barPanelSvg(panel: BarPanel, offsetY: number): { svg: string; height: number } {
  const top = offsetY + M.top;
  const height = M.top + panel.bars.length * BAR_H + M.bottom;
  const pw = W - BAR_LABEL_W - 90;
  const max = Math.max(1e-9, ...panel.bars.map((b) => b.value).filter(Number.isFinite));
  const out: string[] = [
    `<text x="${M.left}" y="${offsetY + 22}" font-size="15" font-weight="bold">${esc(panel.title)}</text>`,
  ];
  panel.bars.forEach((bar, i) => {
    const y = top + i * BAR_H;
    const w = Number.isFinite(bar.value) ? (bar.value / max) * pw : 0;
    out.push(
      `<text x="${BAR_LABEL_W - 8}" y="${y + BAR_H / 2 + 4}" font-size="12" text-anchor="end">${esc(bar.label)}</text>`,
    );
    out.push(
      `<rect x="${BAR_LABEL_W}" y="${y + 4}" width="${w.toFixed(1)}" height="${BAR_H - 8}" fill="${COLORS[i % COLORS.length] ?? '#000'}"/>`,
    );
    out.push(
      `<text x="${(BAR_LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H / 2 + 4}" font-size="12">${Number.isFinite(bar.value) ? +bar.value.toFixed(2) : 'n/a'}</text>`,
    );
  });
  out.push(
    `<text x="${BAR_LABEL_W + pw / 2}" y="${offsetY + height - 12}" font-size="12" text-anchor="middle">${esc(panel.xLabel)}</text>`,
  );
  return { svg: out.join('\n'), height };
}

/** Horizontal bar panels stacked vertically (a figure per measured target). */
export function barChartSvg(panels: BarPanel[]): string {
  let y = 0;
  const parts: string[] = [];
  for (const panel of panels) {
    const { svg, height } = barPanelSvg(panel, y);
    parts.push(svg);
    y += height;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
