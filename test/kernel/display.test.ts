import * as dfd from 'danfojs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  collect,
  escapeHtml,
  figureText,
  jsonForScript,
  type MimeBundle,
  PLOTLY_MIME,
  plot,
  plotlyBundle,
  plotlyScript,
  progress,
  progressBundle,
  resetPlotlyJs,
  setDisplaySink,
  show,
  tableBundle,
} from '../../kernel/index.js';

const html = (b: MimeBundle): string => b.data['text/html'] as string;
const text = (b: MimeBundle): string => b.data['text/plain'] as string;

afterEach(() => {
  setDisplaySink(undefined);
  resetPlotlyJs();
});

describe('escaping', () => {
  it('escapes HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('writes JSON that cannot end a script element', () => {
    const json = jsonForScript({ s: '</script><script>alert(1)</script>', t: '<!-- \u2028' });
    expect(json).not.toMatch(/<|>|\u2028/);
    expect(JSON.parse(json)).toEqual({ s: '</script><script>alert(1)</script>', t: '<!-- \u2028' });
  });
});

describe('plotly figures', () => {
  const figure = { data: [{ type: 'bar', name: 'spans', x: ['1 word', '2 words'], y: [2235, 907] }], layout: { title: { text: 'Masked </script> spans' } } };

  it('are one bundle: HTML that draws, the plotly JSON and a text summary', () => {
    const bundle = plotlyBundle(figure, { includePlotlyJs: false, id: 'chart-1' });
    expect(Object.keys(bundle.data).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    expect(bundle.data[PLOTLY_MIME]).toMatchObject({ data: figure.data, layout: { title: { text: 'Masked </script> spans' }, height: 360 } });
    expect(html(bundle)).toContain('<div id="chart-1" class="kbb-plotly"');
    expect(html(bundle)).toContain('window.Plotly.newPlot(el, fig.data, fig.layout, fig.config)');
    // The title's </script> is escaped inside the drawing script: exactly one element closes.
    expect(html(bundle).match(/<\/script>/g)).toHaveLength(1);
    expect(html(bundle)).not.toContain('plotly.js v');
    expect(text(bundle)).toBe('Plotly figure: Masked </script> spans\n  bar spans: [1 word, 2 words] → [2,235, 907]');
  });

  it('carry the plotly.js bundle inline when asked, with no network reference', () => {
    const bundle = plotlyBundle(figure, { includePlotlyJs: true });
    expect(html(bundle).startsWith(plotlyScript())).toBe(true);
    expect(plotlyScript()).toContain('plotly.js v3');
    expect(plotlyScript().length).toBeGreaterThan(1_000_000);
    expect(html(bundle)).not.toMatch(/<script[^>]+src=/);
    expect(html(bundle).match(/<\/script>/g)).toHaveLength(2);
  });

  it('include plotly.js in the first chart of a session only', () => {
    const shown: MimeBundle[] = [];
    setDisplaySink((bundle) => shown.push(bundle));
    plot(figure);
    plot(figure);
    plot(figure, { includePlotlyJs: true });
    expect(shown.map((b) => html(b).includes('plotly.js v3'))).toEqual([true, false, true]);
    resetPlotlyJs();
    plot(figure);
    expect(html(shown[3]).includes('plotly.js v3')).toBe(true);
  });

  it('summarize histograms and pies as text', () => {
    const lengths = Array.from({ length: 20 }, (_, i) => i);
    expect(figureText({ data: [{ type: 'histogram', x: lengths }] })).toBe('Plotly figure\n  histogram: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, … (20)]');
    expect(figureText({ data: [{ type: 'pie', labels: ['a', 'b'], values: [0.5, 1.25] }], layout: { title: 'T' } })).toBe(
      'Plotly figure: T\n  pie: [a, b] → [0.5, 1.25]',
    );
  });
});

describe('tables', () => {
  it('show rows with every value escaped, numbers right-aligned and formatted', () => {
    const bundle = tableBundle(
      [
        { token: '<b>&', count: 12345, share: 0.123456 },
        { token: '##는', count: 7 },
      ],
      { caption: 'a <caption>' },
    );
    const h = html(bundle);
    expect(h).toContain('<caption style="text-align: left; font-weight: bold;">a &lt;caption&gt;</caption>');
    expect(h).toContain('<td style="text-align: left;">&lt;b&gt;&amp;</td>');
    expect(h).toContain('<td style="text-align: right;">12,345</td>');
    expect(h).toContain('<td style="text-align: right;">0.1235</td>');
    expect(h).not.toContain('<b>');
    expect(text(bundle)).toBe(['a <caption>', 'token   count   share', '<b>&   12,345  0.1235', `##는${' '.repeat(9)}7`].join('\n'));
  });

  it('show a danfojs DataFrame, its index only when it is not the default', () => {
    const df = new dfd.DataFrame([
      { file: 'a.txt', sentences: 3 },
      { file: 'b.txt', sentences: 4 },
    ]);
    const bundle = tableBundle(df);
    expect(html(bundle)).toContain('<th style="text-align: left;">file</th><th style="text-align: right;">sentences</th>');
    expect(text(bundle)).toBe('file   sentences\na.txt          3\nb.txt          4');
    const sorted = df.sortValues('sentences', { ascending: false });
    expect(text(tableBundle(sorted))).toBe('   file   sentences\n1  b.txt          4\n0  a.txt          3');
  });

  it('show explicit columns, plain columns and a row limit', () => {
    const bundle = tableBundle(
      {
        columns: ['id', 'n'],
        rows: [
          [2269, 5000],
          [1733, 1],
          [30, 2],
        ],
      },
      { plain: ['id'], maxRows: 2 },
    );
    expect(text(bundle)).toBe('  id      n\n2269  5,000\n1733      1\n… 1 more rows');
    expect(html(bundle)).toContain('<p class="kbb-table-more">… 1 more rows</p>');
  });
});

describe('progress', () => {
  it('is an HTML progress bar with a text fallback', () => {
    const bundle = progressBundle({ label: 'build <1>', done: 50, total: 200, detail: '12 examples' });
    expect(html(bundle)).toContain('<span>build &lt;1&gt;</span> <progress max="1000" value="250"></progress> <span>25% · 12 examples</span>');
    expect(text(bundle)).toBe('build <1> [########......................] 25% · 12 examples');
    expect(text(progressBundle({ label: 'x', done: 3 }))).toBe('x [..............................]');
    expect(text(progressBundle({ label: 'x', done: 3, finished: true }))).toBe('x [##############################] 100% · done');
  });

  it('is one display, updated in place under its id', () => {
    const sent: { bundle: MimeBundle; displayId?: string; update: boolean }[] = [];
    setDisplaySink((bundle, target) => sent.push({ bundle, ...target }));
    const bar = progress('building', { minIntervalMs: 0 });
    bar.update(1, 4);
    bar.update(2);
    bar.finish('done at last');
    expect(sent.map((s) => s.update)).toEqual([false, true, true, true]);
    expect(new Set(sent.map((s) => s.displayId)).size).toBe(1);
    expect(sent[0].displayId).toMatch(/^kbb-progress-/);
    expect(text(sent[2].bundle)).toContain('50%');
    expect(text(sent[3].bundle)).toBe('building [##############################] 100% · done at last · done');
  });

  it('shows the time left at the rate since its first update, and none once finished', async () => {
    expect(text(progressBundle({ label: 't', done: 1, total: 4, etaSeconds: 65 }))).toBe('t [########......................] 25% · ETA 1:05');
    const sent: MimeBundle[] = [];
    setDisplaySink((bundle) => sent.push(bundle));
    const bar = progress('training', { minIntervalMs: 0 });
    const started = performance.now();
    bar.update(1, 11, 'step 1/11');
    expect(text(sent[1])).toBe(`training [${'#'.repeat(3)}${'.'.repeat(27)}] 9% · step 1/11`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    bar.update(2, 11, 'step 2/11');
    const seconds = (performance.now() - started) / 1000;
    // one step in 0.15 s or a little more, nine to go: 9 × the measured step, rounded to whole seconds.
    const eta = Number(/· ETA (\d+)s$/.exec(text(sent[2]))?.[1]);
    expect(eta).toBeGreaterThanOrEqual(1);
    expect(eta).toBeLessThanOrEqual(Math.round(9 * seconds));
    bar.finish();
    expect(text(sent[3])).not.toContain('ETA');
  });

  it('sends at most one update per interval, and always the last', () => {
    const sent: boolean[] = [];
    setDisplaySink((_, target) => sent.push(target.update));
    const bar = progress('p', { minIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) bar.update(i, 100);
    bar.finish();
    expect(sent).toEqual([false, true, true]);
  });
});

describe('show and collect', () => {
  it('prints the text outside a kernel', () => {
    const logged: unknown[] = [];
    const original = console.log;
    console.log = (value: unknown) => logged.push(value);
    try {
      show({ data: { 'text/html': '<b>x</b>', 'text/plain': 'x' } });
      show({ data: { 'text/plain': 'an update' } }, { displayId: 'a', update: true });
    } finally {
      console.log = original;
    }
    expect(logged).toEqual(['x']);
  });

  it('collects an async stream, up to a limit', async () => {
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) yield i;
    }
    expect(await collect(numbers())).toEqual([0, 1, 2, 3, 4]);
    expect(await collect(numbers(), 2)).toEqual([0, 1]);
  });
});
