import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { escapeHtml, jsonForScript, type MimeBundle, show } from './mime.js';

/** A plotly figure as plotly.js takes it (https://plotly.com/javascript/reference/). */
export interface PlotlyFigure {
  readonly data: readonly PlotlyTrace[];
  readonly layout?: Readonly<Record<string, unknown>>;
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface PlotlyTrace {
  readonly type?: string;
  readonly name?: string;
  readonly x?: readonly unknown[];
  readonly y?: readonly unknown[];
  readonly labels?: readonly unknown[];
  readonly values?: readonly unknown[];
  readonly [key: string]: unknown;
}

export interface PlotOptions {
  /** Chart height in pixels (default 360; a `layout.height` wins). */
  readonly height?: number;
  /**
   * Put plotly.js itself into this output (a `<script>` before the chart). Default: only into the
   * first chart a kernel session shows, so a notebook carries the bundle once and every later
   * chart on the page draws with it — in Jupyter and in the notebook saved or exported as HTML,
   * without network access.
   */
  readonly includePlotlyJs?: boolean;
  /** The chart element's id (default: random). */
  readonly id?: string;
}

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

const requireHere = createRequire(import.meta.url);
let plotlyJs: string | undefined;

/** The plotly.js bundle (plotly.js-dist-min) as a `<script>` element, read from node_modules. */
export function plotlyScript(): string {
  plotlyJs ??= readFileSync(requireHere.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  // Nothing in the bundle may end the element early.
  return `<script type="text/javascript">${plotlyJs.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
}

/** A short description of a figure, for front ends that show only text. */
export function figureText(figure: PlotlyFigure): string {
  const title = layoutTitle(figure.layout);
  const lines = [`Plotly figure${title ? `: ${title}` : ''}`];
  const shown = (values: readonly unknown[] | undefined): string => {
    if (!values) return '';
    const items = values.slice(0, 12).map((v) => (typeof v === 'number' ? formatNumber(v) : String(v)));
    return `[${items.join(', ')}${values.length > 12 ? `, … (${values.length})` : ''}]`;
  };
  for (const trace of figure.data) {
    const kind = trace.type ?? 'scatter';
    const name = trace.name ? ` ${trace.name}` : '';
    const points =
      trace.labels && trace.values
        ? `${shown(trace.labels)} → ${shown(trace.values)}`
        : trace.x && trace.y
          ? `${shown(trace.x)} → ${shown(trace.y)}`
          : shown(trace.values ?? trace.x ?? trace.y);
    lines.push(`  ${kind}${name}: ${points}`);
  }
  return lines.join('\n');
}

function layoutTitle(layout: PlotlyFigure['layout']): string | undefined {
  const title = layout?.title;
  if (typeof title === 'string') return title;
  if (title && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') return (title as { text: string }).text;
  return undefined;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 4 });
}

/**
 * A figure as one display output: `text/html` (a `<div>` and the script that draws into it with
 * plotly.js, preceded by plotly.js itself when `includePlotlyJs`), the plotly JSON MIME type (for
 * front ends with a plotly renderer) and a `text/plain` summary.
 */
export function plotlyBundle(figure: PlotlyFigure, options: PlotOptions & { readonly includePlotlyJs: boolean }): MimeBundle {
  const id = options.id ?? `kbb-plot-${randomBytes(6).toString('hex')}`;
  const height = (figure.layout?.height as number | undefined) ?? options.height ?? 360;
  const layout = { height, margin: { t: 48, r: 24, b: 48, l: 64 }, ...figure.layout };
  const config = { responsive: true, displaylogo: false, ...figure.config };
  const spec = { data: figure.data, layout, config };
  // Waits for plotly.js (the notebook's first chart carries it; a later chart may be drawn first
  // while the page loads), then draws; says so in the chart's place if it never comes.
  const draw = `(function () {
  var fig = ${jsonForScript(spec)};
  var tries = 0;
  function draw() {
    var el = document.getElementById(${jsonForScript(id)});
    if (!el) return;
    if (window.Plotly) { window.Plotly.newPlot(el, fig.data, fig.layout, fig.config); return; }
    if (++tries > 200) { el.textContent = "plotly.js is not loaded here: run the notebook from its first cell (the first chart of a session carries plotly.js)."; return; }
    setTimeout(draw, 50);
  }
  draw();
})();`;
  const html = [
    options.includePlotlyJs ? plotlyScript() : '',
    `<div id="${escapeHtml(id)}" class="kbb-plotly" style="width: 100%; min-height: ${Number(height)}px;"></div>`,
    `<script type="text/javascript">${draw}</script>`,
  ]
    .filter(Boolean)
    .join('\n');
  return { data: { 'text/html': html, [PLOTLY_MIME]: spec, 'text/plain': figureText(figure) } };
}

let plotlyJsShown = false;

/** Displays a figure (see plotlyBundle); the first chart of a kernel session carries plotly.js. */
export function plot(figure: PlotlyFigure, options: PlotOptions = {}): void {
  const includePlotlyJs = options.includePlotlyJs ?? !plotlyJsShown;
  show(plotlyBundle(figure, { ...options, includePlotlyJs }));
  if (includePlotlyJs) plotlyJsShown = true;
}

/** Makes the next `plot` carry plotly.js again (as after a kernel restart). */
export function resetPlotlyJs(): void {
  plotlyJsShown = false;
}
