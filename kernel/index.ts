// Display helpers for kbb's notebooks (tslab kernel): charts, tables and progress as Jupyter
// display outputs. Built into dist/kernel.cjs by `npm run build:lib`; notebooks import that.
export { collect } from './collect.js';
export { escapeHtml, jsonForScript, type DisplaySink, type MimeBundle, setDisplaySink, show } from './mime.js';
export { figureText, plot, PLOTLY_MIME, plotlyBundle, type PlotlyFigure, type PlotlyTrace, plotlyScript, type PlotOptions, resetPlotlyJs } from './plotly.js';
export { type Progress, progress, progressBundle, type ProgressOptions, type ProgressState } from './progress.js';
export { type DataFrameLike, formatCell, table, tableBundle, type TableInput, type TableOptions } from './table.js';
