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
  const yMax = Math.max(1e-9, ...finite.map(([, y]) => y)) * 1.1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + (x / xMax) * pw;
  const sy = (y: number) => offsetY + M.top + ph - (y / yMax) * ph;
  const out: string[] = [];
  out.push(
    `<text x="${M.left}" y="${offsetY + 22}" font-size="15" font-weight="bold">${esc(panel.title)}</text>`,
  );
  const xs = tickStep(xMax);
  for (let x = 0; x <= xMax + 1e-9; x += xs) {
    out.push(`<line x1="${sx(x)}" y1="${sy(0)}" x2="${sx(x)}" y2="${sy(yMax)}" stroke="#eee"/>`);
    out.push(
      `<text x="${sx(x)}" y="${sy(0) + 16}" font-size="11" text-anchor="middle">${+x.toFixed(2)}</text>`,
    );
  }
  const ys = tickStep(yMax);
  for (let y = 0; y <= yMax + 1e-9; y += ys) {
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
      `<line x1="${sx(x)}" y1="${sy(0)}" x2="${sx(x)}" y2="${sy(yMax)}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
    out.push(
      `<text x="${sx(x) + 3}" y="${offsetY + M.top + 10}" font-size="10" fill="#555">${esc(label)}</text>`,
    );
  }
  panel.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 0) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
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
