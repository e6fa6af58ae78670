// Display helpers for kbb's notebooks (tslab kernel): charts, tables and progress as Jupyter
// display outputs. Built into dist/kernel.cjs by `npm run build:lib`; notebooks import that.
export { collect } from './collect.js';
export { type LiveChart, type LiveChartOptions, liveChart } from './live-chart.js';
export { type DisplaySink, escapeHtml, jsonForScript, type MimeBundle, setDisplaySink, show } from './mime.js';
export { figureText, PLOTLY_MIME, type PlotlyFigure, type PlotlyTrace, type PlotOptions, plot, plotlyBundle, plotlyScript, resetPlotlyJs } from './plotly.js';
export { type Progress, type ProgressOptions, type ProgressState, progress, progressBundle } from './progress.js';
export { type DataFrameLike, formatCell, type TableInput, type TableOptions, table, tableBundle } from './table.js';
