import { randomBytes } from 'node:crypto';
import { type MimeBundle, setDisplaySink, show } from './mime.js';
import { type PlotlyFigure, type PlotlyTrace, type PlotOptions, plot, plotlyBundle, plotlyScript } from './plotly.js';

export interface LiveChartOptions extends PlotOptions {
  /** Least time between two redraws sent to the front end (default 250 ms); `finish` always draws. */
  readonly minIntervalMs?: number;
}

export interface LiveChart {
  /** Appends one point to the trace at `trace` (its index in the figure's `data`); redraws when due. */
  push(trace: number, x: unknown, y: unknown): void;
  /** Merges `layout` into the figure's layout (a title with the latest numbers, say); redraws when due. */
  relayout(layout: Readonly<Record<string, unknown>>): void;
  /** The figure with every point pushed so far. */
  figure(): PlotlyFigure;
  /** Draws the figure as it is now: the state the notebook keeps. */
  finish(): void;
}

/**
 * A plotly chart that grows while a cell runs (a loss curve while training): one output, shown at
 * once and redrawn in place as points arrive (Jupyter's update_display_data under one display id),
 * so the cell ends with a single chart, the final one. The figure starts as given — set the axis
 * ranges to the whole run so the curve grows into a fixed frame — and its traces take points with
 * `push`.
 *
 * The first chart of a session carries plotly.js (see `plot`). A live chart that is the first shows
 * the bundle with its first drawing and its last (`finish`), not with the redraws between: the
 * front end has loaded plotly.js from the first, and the last is what a saved notebook keeps.
 */
export function liveChart(figure: PlotlyFigure, options: LiveChartOptions = {}): LiveChart {
  const { minIntervalMs = 250, ...plotOptions } = options;
  const id = plotOptions.id ?? `kbb-plot-${randomBytes(6).toString('hex')}`;
  const displayId = `kbb-live-${randomBytes(6).toString('hex')}`;
  // The points live in arrays of their own: pushing must not change the caller's figure.
  const xs = figure.data.map((trace) => [...(trace.x ?? [])]);
  const ys = figure.data.map((trace) => [...(trace.y ?? [])]);
  let layout: Readonly<Record<string, unknown>> = { ...figure.layout };
  const current = (): PlotlyFigure => ({ ...figure, data: figure.data.map((trace, i): PlotlyTrace => ({ ...trace, x: [...xs[i]], y: [...ys[i]] })), layout });

  // `plot` keeps the session's "plotly.js shown" state: the first drawing goes through it, caught on
  // its way out and shown under the display id, so that a chart shown later does not carry the bundle again.
  let first: MimeBundle | undefined;
  const previous = setDisplaySink((bundle) => {
    first = bundle;
  });
  try {
    plot(current(), { ...plotOptions, id });
  } finally {
    setDisplaySink(previous);
  }
  const carriesPlotlyJs = String(first?.data['text/html'] ?? '').startsWith(plotlyScript());
  show(first ?? plotlyBundle(current(), { ...plotOptions, id, includePlotlyJs: false }), { displayId });

  let lastSent = Date.now();
  const send = (includePlotlyJs: boolean): void => {
    lastSent = Date.now();
    show(plotlyBundle(current(), { ...plotOptions, id, includePlotlyJs }), { displayId, update: true });
  };
  const changed = (): void => {
    if (Date.now() - lastSent >= minIntervalMs) send(false);
  };
  return {
    push(trace, x, y) {
      if (!Number.isInteger(trace) || !xs[trace]) throw new RangeError(`liveChart: no trace ${trace} (the figure has ${xs.length})`);
      xs[trace].push(x);
      ys[trace].push(y);
      changed();
    },
    relayout(changes) {
      layout = { ...layout, ...changes };
      changed();
    },
    figure: current,
    finish() {
      send(carriesPlotlyJs);
    },
  };
}
