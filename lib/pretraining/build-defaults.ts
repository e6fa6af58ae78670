/**
 * The builder's defaults, written once: the library, `kbb build-tfrecord`, the demo and the notebooks
 * take them from here.
 */

/** The reference builder's flag defaults (create_pretraining_data.py), and kbb's own for its extra flags. */
export const BUILD_DEFAULTS = Object.freeze({
  maxSeqLength: 512,
  maxPredictionsPerSeq: 76,
  /** 0 = one per CPU, as the reference (the output then depends on the machine). */
  numProcesses: 0,
  sentencePairProb: 0.05,
  shortSeqProb: 0.01,
  doWholeWordMask: false,
  dupeFactor: 2,
  maskedLmProb: 0.15,
  seed: 12345,
  longSeqThreshold: 1.8,
  /** The reference always writes 1000 shards. */
  numShards: 1000,
  overwrite: false,
  /** MiB across all workers for the first pass's token ids, reused by the other dupe passes. */
  tokenCacheMb: 1024,
});

/**
 * KoBigBird's shipped builder settings (`build_tfrecord.sh`: whole words, 2-grams, 3 static masks,
 * single segments) scaled to the sample corpus kbb ships: what `npm start` and the pretraining-data
 * notebook build. Everything not named here is `BUILD_DEFAULTS`.
 */
export const SAMPLE_BUILD_SETTINGS = Object.freeze({
  maxSeqLength: 128,
  maxPredictionsPerSeq: 20,
  maskedLmProb: 0.15,
  doWholeWordMask: true,
  maxNgramSize: 2,
  dupeFactor: 3,
  sentencePairProb: 0,
  shortSeqProb: 0,
  numShards: 8,
  numProcesses: 1,
  seed: 12345,
  overwrite: true,
});

/** Each worker's share of the token cache, in bytes. */
export const tokenCacheBytesPerJob = (tokenCacheMb: number, numJobs: number): number => Math.floor((tokenCacheMb * 2 ** 20) / numJobs);
