/** One timed build in its own process, so peak RSS covers exactly this build (worker threads included). */
import { buildPretrainingData } from '../lib/pretraining/index.js';

const [inputDir, tokenizerDir, outputDir, workers] = process.argv.slice(2);
const started = performance.now();
const cpuStarted = process.cpuUsage();
const manifest = await buildPretrainingData({
  inputDir,
  tokenizerDir,
  outputDir,
  overwrite: true,
  numProcesses: Number(workers),
  // The shipped build_tfrecord.sh settings.
  maxSeqLength: 4096,
  maxPredictionsPerSeq: 640,
  maskedLmProb: 0.15,
  sentencePairProb: 0,
  shortSeqProb: 0,
  doWholeWordMask: true,
  maxNgramSize: 2,
  dupeFactor: 3,
  longSeqThreshold: 1.8,
});
const cpu = process.cpuUsage(cpuStarted);
console.log(
  JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    sysSeconds: cpu.system / 1e6,
    examples: manifest.totals.examples,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
