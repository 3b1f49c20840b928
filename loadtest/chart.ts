/**
 * Draws an SVG chart from a comparison JSON: delivered msgs/s and p99 latency against
 * subscriber count, one line per system (log-scale x axis).
 *
 *   node dist/loadtest/chart.js --in loadtest/results/compare-....json --out docs/fanout-chart.svg \
 *     [--workloads sweep1k,a100,sweep10k,d]
 */
import * as fs from 'node:fs';
import { parseFlags, str } from './cli-args.js';
import type { SummaryRow } from './compare/report.js';

/** One plotted point. */
export interface Point {
  /** subscribers */
  x: number;
  /** value */
  y: number;
}

/** One line of the chart. */
export interface Series {
  /** legend text */
  name: string;
  /** points, sorted by x */
  points: Point[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(2));
}

/** Renders one panel (axes, grid, lines) at the given offset; returns SVG elements. */
export function panel(title: string, unit: string, series: readonly Series[], ox: number, oy: number, w: number, h: number): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xmin = Math.min(...xs, 1000);
  const xmax = Math.max(...xs, xmin * 10);
  const lx0 = Math.log10(xmin);
  const lx1 = Math.log10(xmax);
  const ymax = niceMax(Math.max(...ys, 0));
  const px = (x: number): number => ox + ((Math.log10(x) - lx0) / (lx1 - lx0 || 1)) * w;
  const py = (y: number): number => oy + h - (y / ymax) * h;
  const out: string[] = [];
  out.push(`<text x="${ox + w / 2}" y="${oy - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (ymax * i) / 5;
    out.push(`<line x1="${ox}" x2="${ox + w}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${ox - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${fmt(y)}</text>`);
  }
  for (let e = Math.ceil(lx0); e <= Math.floor(lx1); e++) {
    for (const m of [1, 2, 5]) {
      const x = m * 10 ** e;
      if (x < xmin || x > xmax) continue;
      out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${oy}" y2="${oy + h}" stroke="#eee"/>`);
      out.push(`<text x="${px(x)}" y="${oy + h + 16}" text-anchor="middle" font-size="11">${fmt(x)}</text>`);
    }
  }
  out.push(`<rect x="${ox}" y="${oy}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${ox + w / 2}" y="${oy + h + 34}" text-anchor="middle" font-size="12">subscribers (log scale)</text>`);
  out.push(`<text transform="translate(${ox - 48},${oy + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(unit)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of s.points)
      out.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(s.name)}: ${fmt(p.y)} ${esc(unit)} at ${p.x} subs</title></circle>`,
      );
  });
  return out.join('\n');
}

/** Builds the two-panel SVG from summary rows. */
export function renderChart(rows: readonly SummaryRow[], caption: string): string {
  const systems = [...new Set(rows.map((r) => r.label))];
  const series = (pick: (r: SummaryRow) => number): Series[] =>
    systems.map((name) => ({
      name,
      points: rows
        .filter((r) => r.label === name && r.runs > 0)
        .map((r) => ({ x: r.subscribers, y: pick(r) }))
        .sort((a, b) => a.x - b.x),
    }));
  const W = 1000;
  const H = 470;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    panel(
      'Delivered messages per second',
      'msgs/s',
      series((r) => r.deliveredPerSec.median),
      80,
      50,
      360,
      300,
    ),
    panel(
      'Publish-to-receive latency p99',
      'ms',
      series((r) => r.p99.median),
      580,
      50,
      360,
      300,
    ),
  ];
  systems.forEach((name, i) => {
    const x = 80 + (i % 4) * 220;
    const y = 420 + Math.floor(i / 4) * 18;
    parts.push(`<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]!}"/>`);
    parts.push(`<text x="${x + 18}" y="${y + 1}" font-size="12">${esc(name)}</text>`);
  });
  parts.push(`<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="10" fill="#555">${esc(caption)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function main(): void {
  const f = parseFlags(process.argv.slice(2), ['in', 'out', 'workloads'], [], 'usage: chart --in compare.json --out chart.svg [--workloads ids]');
  const input = str(f, 'in', '');
  if (input === '') {
    process.stderr.write('--in is required\n');
    process.exit(2);
  }
  const data = JSON.parse(fs.readFileSync(input, 'utf8')) as { rows: SummaryRow[]; startedAt: string; environment?: { cpus: number; node: string } };
  const wanted = str(f, 'workloads', 'sweep1k,a100,sweep10k,d').split(',');
  let rows = data.rows.filter((r) => wanted.includes(r.workload));
  if (rows.length === 0) rows = data.rows;
  const env = data.environment;
  const caption = `${data.startedAt}  ${env !== undefined ? `${env.cpus} CPUs, Node ${env.node}` : ''}  workloads: ${[...new Set(rows.map((r) => r.workload))].join(', ')}`;
  const out = str(f, 'out', `${input.replace(/\.json$/, '')}.svg`);
  fs.writeFileSync(out, renderChart(rows, caption));
  process.stdout.write(`chart written to ${out}\n`);
}

if (require.main === module) main();
