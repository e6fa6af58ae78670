import { afterEach, describe, expect, it } from 'vitest';
import { liveChart, type MimeBundle, PLOTLY_MIME, type PlotlyFigure, plot, resetPlotlyJs, setDisplaySink } from '../../kernel/index.js';

interface Sent {
  readonly bundle: MimeBundle;
  readonly displayId?: string;
  readonly update: boolean;
}

const html = (b: MimeBundle): string => b.data['text/html'] as string;
const spec = (b: MimeBundle): PlotlyFigure => b.data[PLOTLY_MIME] as PlotlyFigure;
const carries = (b: MimeBundle): boolean => html(b).includes('plotly.js v3');

function capture(): Sent[] {
  const sent: Sent[] = [];
  setDisplaySink((bundle, target) => sent.push({ bundle, ...target }));
  return sent;
}

const lossFigure = (): PlotlyFigure => ({
  data: [
    { type: 'scatter', name: 'loss', x: [], y: [] },
    { type: 'scatter', name: 'reference', x: [0, 10], y: [8, 6] },
  ],
  layout: { title: { text: 'loss' }, xaxis: { range: [0, 10] } },
});

afterEach(() => {
  setDisplaySink(undefined);
  resetPlotlyJs();
});

describe('live charts', () => {
  it('are one display, redrawn in place under its id as points arrive', () => {
    const sent = capture();
    const figure = lossFigure();
    const chart = liveChart(figure, { minIntervalMs: 0 });
    chart.push(0, 1, 7.9);
    chart.push(0, 2, 7.5);
    chart.relayout({ title: { text: 'loss · step 2' } });
    chart.finish();

    expect(sent.map((s) => s.update)).toEqual([false, true, true, true, true]);
    expect(new Set(sent.map((s) => s.displayId)).size).toBe(1);
    expect(sent[0].displayId).toMatch(/^kbb-live-/);
    // Every drawing goes into the same element, one the notebook tests recognise as a chart.
    const ids = sent.map((s) => /<div id="(kbb-plot-[0-9a-f]+)"/.exec(html(s.bundle))?.[1]);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBeDefined();

    expect(spec(sent[0].bundle).data[0]).toMatchObject({ x: [], y: [] });
    expect(spec(sent[2].bundle).data[0]).toMatchObject({ name: 'loss', x: [1, 2], y: [7.9, 7.5] });
    expect(spec(sent[2].bundle).data[1]).toMatchObject({ x: [0, 10], y: [8, 6] });
    const last = spec(sent[4].bundle);
    expect(last.layout).toMatchObject({ title: { text: 'loss · step 2' }, xaxis: { range: [0, 10] } });
    expect(sent[4].bundle.data['text/plain']).toBe('Plotly figure: loss · step 2\n  scatter loss: [1, 2] → [7.9, 7.5]\n  scatter reference: [0, 10] → [8, 6]');
    expect(chart.figure().data[0]).toMatchObject({ x: [1, 2], y: [7.9, 7.5] });
    // The caller's figure is left as it was.
    expect(figure.data[0]).toMatchObject({ x: [], y: [] });
    expect(figure.layout).toEqual(lossFigure().layout);
  });

  it('redraw at most once per interval, and always when finished', () => {
    const sent = capture();
    const chart = liveChart(lossFigure(), { minIntervalMs: 60_000 });
    for (let step = 1; step <= 100; step++) chart.push(0, step, 8 - step / 50);
    expect(sent).toHaveLength(1);
    chart.finish();
    expect(sent.map((s) => s.update)).toEqual([false, true]);
    expect(spec(sent[1].bundle).data[0].x).toHaveLength(100);
  });

  it('carry plotly.js in the first and the last drawing when they are the first chart of a session, and only then', () => {
    const sent = capture();
    const first = liveChart(lossFigure(), { minIntervalMs: 0 });
    first.push(0, 1, 7);
    first.finish();
    expect(sent.map((s) => carries(s.bundle))).toEqual([true, false, true]);

    // The session has its plotly.js now: neither a later live chart nor a plain chart carries it again.
    sent.length = 0;
    const second = liveChart(lossFigure(), { minIntervalMs: 0 });
    second.push(0, 1, 7);
    second.finish();
    plot(lossFigure());
    expect(sent.map((s) => carries(s.bundle))).toEqual([false, false, false, false]);
  });

  it('refuse a point for a trace the figure does not have', () => {
    capture();
    const chart = liveChart(lossFigure());
    expect(() => chart.push(2, 1, 1)).toThrow(/no trace 2 \(the figure has 2\)/);
  });
});
