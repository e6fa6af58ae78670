/** One timed export in its own process, so peak RSS covers exactly this export. */
import { exportToHuggingFace } from '../lib/convert/index.js';

const [checkpointDir, outputDir, pytorchBin] = process.argv.slice(2);
const started = performance.now();
const result = await exportToHuggingFace({ checkpointDir, outputDir, tokenizerDir: null, pytorchBin: pytorchBin === 'bin', overwrite: true });
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, bytes: result.plan.totalBytes, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
