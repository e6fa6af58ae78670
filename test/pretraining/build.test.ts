import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress, init } from '@bokuweb/zstd-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildOptions, buildPretrainingData } from '../../lib/pretraining/index.js';
import { decodeExample, readTfRecords } from '../../lib/tfrecord/index.js';
import { fixture, hasFixtures, projectRoot } from '../helpers/fixtures.js';

const SAMPLE_TOKENIZER = join(projectRoot, 'data', 'sample-tokenizer');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-build-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const small = (inputDir: string, outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir,
  tokenizerDir: SAMPLE_TOKENIZER,
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: 1,
  sentencePairProb: 0.2,
  shortSeqProb: 0.1,
  doWholeWordMask: true,
  maxNgramSize: 2,
  dupeFactor: 2,
  numShards: 5,
  ...extra,
});

/** Every record of every shard, decoded to plain arrays, in shard order. */
async function readShards(outputDir: string): Promise<Record<string, number[]>[][]> {
  const files = readdirSync(outputDir)
    .filter((f) => f.startsWith('pretrain_data.tfrecord-'))
    .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  const shards: Record<string, number[]>[][] = [];
  for (const file of files) {
    const records: Record<string, number[]>[] = [];
    for await (const r of readTfRecords(join(outputDir, file))) {
      records.push(
        Object.fromEntries([...decodeExample(r.data)].map(([k, f]) => [k, Array.from((f as unknown as { value: ArrayLike<number> }).value, Number)])),
      );
    }
    shards.push(records);
  }
  return shards;
}

const corpus = (name: string, files: Record<string, string>): string => {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
  return root;
};

describe('building pretraining data', () => {
  const sample = join(projectRoot, 'data', 'sample-corpus');

  it('worker threads write exactly what the same jobs write in-process', async () => {
    const threaded = await buildPretrainingData(small(sample, join(dir, 'threads'), { numProcesses: 2 }));
    const inline = await buildPretrainingData(small(sample, join(dir, 'inline'), { numProcesses: 2, inProcess: true }));
    expect(threaded.totals.examples).toBeGreaterThan(50);
    expect(await readShards(join(dir, 'threads'))).toEqual(await readShards(join(dir, 'inline')));
    expect(threaded.statistics).toEqual(inline.statistics);
  });

  it('the token cache changes nothing: off, ample, and running out in the middle of a file', async () => {
    const build = async (name: string, tokenCacheMb: number) => {
      await buildPretrainingData(small(sample, join(dir, name), { numProcesses: 2, inProcess: true, dupeFactor: 3, tokenCacheMb }));
      return readShards(join(dir, name));
    };
    const uncached = await build('cache-off', 0);
    expect(uncached.flat().length).toBeGreaterThan(100);
    expect(await build('cache-ample', 64)).toEqual(uncached);
    // 40 KiB per job: the first sample file (about 24 KB of text) fits, the next one overflows it.
    expect(await build('cache-tight', 0.08)).toEqual(uncached);
  });

  it('progress counts file bytes read, compressed ones for .jsonl.zst: it rises to exactly the total and never past it', async () => {
    await init();
    const texts = readdirSync(sample)
      .filter((f) => f.endsWith('.txt'))
      .map((f) => readFileSync(join(sample, f), 'utf8'));
    // The sample prose as ko_lm_dataformat documents: zstd shrinks it to under half, so counting the
    // sentences' text against the compressed sizes would run far past 100%.
    const archive = corpus('progress-zst', {});
    texts.forEach((text, i) => {
      const docs = text
        .split('\n\n')
        .map((doc) => `${JSON.stringify({ text: doc.split('\n'), meta: {} })}\n`)
        .join('');
      writeFileSync(join(archive, `part-${i}.jsonl.zst`), Buffer.from(compress(Buffer.from(docs), 3)));
    });
    const sizes = (root: string): number =>
      readdirSync(root)
        .filter((f) => /\.(txt|jsonl\.zst)$/.test(f))
        .reduce((n, f) => n + statSync(join(root, f)).size, 0);
    expect(sizes(archive)).toBeLessThan(0.5 * texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
    for (const [input, extra] of [
      [sample, { numProcesses: 2 }],
      [sample, { numProcesses: 1, tokenCacheMb: 0 }],
      [archive, { numProcesses: 2 }],
      [archive, { numProcesses: 1, tokenCacheMb: 0.01 }],
    ] as const) {
      const seen: { bytes: number; totalBytes: number; examples: number }[] = [];
      const out = join(dir, `progress-${seen.length}-${Math.random().toString(36).slice(2)}`);
      const manifest = await buildPretrainingData(small(input, out, { ...extra, dupeFactor: 3, onProgress: (p) => seen.push({ ...p }) }));
      const label = `${input === archive ? '.jsonl.zst' : '.txt'} ${JSON.stringify(extra)}`;
      expect(seen.length, label).toBeGreaterThan(3);
      expect(new Set(seen.map((p) => p.totalBytes)), label).toEqual(new Set([sizes(input) * 3]));
      expect(
        seen.every((p, i) => p.bytes <= p.totalBytes && (i === 0 || p.bytes >= seen[i - 1].bytes)),
        label,
      ).toBe(true);
      expect(seen.at(-1)!.bytes, label).toBe(sizes(input) * 3);
      expect(seen.at(-1)!.examples, label).toBe(manifest.totals.examples);
    }
  });

  it('the manifest accounts for every example and every shard', async () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'threads', 'build_manifest.json'), 'utf8'));
    const shards = await readShards(join(dir, 'threads'));
    expect(manifest.shards.map((s: { examples: number }) => s.examples)).toEqual(shards.map((s) => s.length));
    expect(manifest.totals.examples).toBe(shards.flat().length);
    expect(manifest.statistics.masked + manifest.statistics.kept + manifest.statistics.replaced).toBe(manifest.statistics.predictions);
    expect(manifest.statistics.predictions).toBe(shards.flat().reduce((n, e) => n + e.masked_lm_weights.filter((w) => w === 1).length, 0));
    expect(manifest.tokenizer.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never deletes an existing output folder without overwrite, and never one holding other files', async () => {
    const out = join(dir, 'threads');
    const before = readdirSync(out).sort();
    await expect(buildPretrainingData(small(sample, out))).rejects.toThrow(/the output folder is not empty .* pass --overwrite/);
    expect(readdirSync(out).sort()).toEqual(before);
    writeFileSync(join(out, 'my-notes.txt'), 'keep me');
    await expect(buildPretrainingData(small(sample, out, { overwrite: true }))).rejects.toThrow(/holds files that are not build output \(my-notes\.txt\)/);
    expect(readFileSync(join(out, 'my-notes.txt'), 'utf8')).toBe('keep me');
    const replaced = join(dir, 'replaced');
    await buildPretrainingData(small(sample, replaced, { numShards: 7 }));
    await buildPretrainingData(small(sample, replaced, { numShards: 3, overwrite: true }));
    expect(readdirSync(replaced).sort()).toEqual([
      'build_manifest.json',
      'pretrain_data.tfrecord-0-of-3',
      'pretrain_data.tfrecord-1-of-3',
      'pretrain_data.tfrecord-2-of-3',
    ]);
  });

  it('a folder a killed build left behind (hidden temporary shards and manifest) is rebuilt with overwrite', async () => {
    const out = join(dir, 'killed');
    await buildPretrainingData(small(sample, out, { numShards: 3 }));
    // What kill -9 leaves: temporary files (a complete build's files may sit beside them).
    writeFileSync(join(out, `.pretrain_data.tfrecord-1-of-3.tmp-${process.pid}-7`), 'half a shard');
    writeFileSync(join(out, `.build_manifest.json.tmp-${process.pid}-8`), '{"half');
    await buildPretrainingData(small(sample, out, { numShards: 3, overwrite: true }));
    expect(readdirSync(out).sort()).toEqual([
      'build_manifest.json',
      'pretrain_data.tfrecord-0-of-3',
      'pretrain_data.tfrecord-1-of-3',
      'pretrain_data.tfrecord-2-of-3',
    ]);
  });

  it('refuses bad flags before doing any work', async () => {
    const out = join(dir, 'never');
    await expect(buildPretrainingData(small(sample, out, { doWholeWordMask: false }))).rejects.toThrow(/--max_ngram_size needs --do_whole_word_mask/);
    await expect(buildPretrainingData(small(sample, out, { longSeqThreshold: 1 }))).rejects.toThrow(/--long_seq_threshold must be greater than 1.0/);
    await expect(buildPretrainingData(small(sample, out, { numProcesses: 6, numShards: 5 }))).rejects.toThrow(/--num_processes 6 is more than --num_shards 5/);
    expect(existsSync(out)).toBe(false);
  });

  it('where the reference crashes: nothing maskable, lines that tokenize to nothing, more workers than files', async () => {
    const root = corpus('crashers', {
      'a.txt': '[UNK] [UNK]\n<s> [MASK]\n',
      'b.txt': '\u200b\n\ufeff\n',
      'c.txt': '봄이 오면 마을 뒤편의 언덕은 연둣빛으로 물든다.\n',
    });
    const manifest = await buildPretrainingData(
      small(root, join(dir, 'crashers-out'), { numProcesses: 4, numShards: 8, sentencePairProb: 0, shortSeqProb: 0 }),
    );
    expect(manifest.statistics.unmaskableExamples).toBeGreaterThan(0);
    expect(manifest.totals.examples).toBe(2); // c.txt once per dupe pass; a.txt's examples have nothing to predict
    expect(manifest.jobs.map((j) => j.files.length)).toEqual([1, 1, 1, 0]);
  });

  it('an unreadable corpus file stops the build with the file named, leaving no shard under a final name', async () => {
    const root = corpus('broken', { 'a.txt': '정상 문장.\n', 'b.txt': Buffer.from([0x61, 0xff, 0x0a]).toString('latin1') });
    writeFileSync(join(root, 'b.txt'), Buffer.from([0x61, 0xff, 0x0a]));
    const out = join(dir, 'broken-out');
    await expect(buildPretrainingData(small(root, out, { numProcesses: 1 }))).rejects.toThrow(/b\.txt \(line 1, byte 1\): invalid UTF-8/);
    expect(readdirSync(out).filter((f) => f.startsWith('pretrain_data'))).toEqual([]);
  });

  // Job 0 runs on the calling thread and job 1 in a worker thread: whichever fails, the other is
  // stopped and removes its unfinished shards, so neither final nor temporary shard files remain.
  for (const [broken, job] of [
    ['a.txt', 'this thread'],
    ['b.txt', 'a worker thread'],
  ] as const) {
    it(`with two jobs, an unreadable file in the job on ${job} stops both and leaves no shard, final or temporary`, async () => {
      const good = Array.from({ length: 4000 }, (_, i) => `문장 ${i} 입니다.${i % 7 === 6 ? '\n' : ''}`).join('\n');
      const root = corpus(`broken-two-${broken}`, { 'a.txt': `${good}\n`, 'b.txt': `${good}\n` });
      writeFileSync(join(root, broken), Buffer.concat([Buffer.from('정상 문장.\n'), Buffer.from([0x61, 0xff, 0x0a])]));
      const out = join(dir, `broken-two-${broken}-out`);
      await expect(buildPretrainingData(small(root, out, { numProcesses: 2, numShards: 4 }))).rejects.toThrow(
        new RegExp(`${broken.replace('.', '\\.')} \\(line 2, byte 16\\): invalid UTF-8`),
      );
      expect(readdirSync(out).filter((f) => f.includes('pretrain_data'))).toEqual([]);
    });
  }
});

describe.skipIf(!hasFixtures)('worker threads reproduce the two-process golden cases, and the manifest their statistics', () => {
  for (const name of ['e_two_processes', 'h_few_shards_two_processes']) {
    it(name, async () => {
      const root = fixture('golden-builder', name);
      const caseJson = JSON.parse(readFileSync(join(root, 'case.json'), 'utf8'));
      const out = join(dir, `golden-${name}`);
      const manifest = await buildPretrainingData({
        inputDir: join(root, 'corpus'),
        tokenizerDir: fixture('kobigbird-tokenizer'),
        outputDir: out,
        maxSeqLength: 128,
        maxPredictionsPerSeq: 20,
        numProcesses: 2,
        sentencePairProb: 0,
        shortSeqProb: 0,
        doWholeWordMask: true,
        maxNgramSize: 2,
        dupeFactor: 3,
        numShards: caseJson.num_out_files,
      });
      expect({
        examples: manifest.statistics.examples,
        predictions: manifest.statistics.predictions,
        mask: manifest.statistics.masked,
        keep: manifest.statistics.kept,
        other: manifest.statistics.replaced,
      }).toEqual({
        examples: caseJson.stats.examples,
        predictions: caseJson.stats.predictions,
        mask: caseJson.stats.mask,
        keep: caseJson.stats.keep,
        other: caseJson.stats.other,
      });
      expect(manifest.shards.filter((s) => s.examples > 0).map((s) => [Number(s.file.split('-')[1]), s.examples])).toEqual(caseJson.nonempty_shards);
      const golden = readFileSync(join(root, 'examples.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).features);
      expect((await readShards(out)).flat()).toEqual(golden);
    });
  }
});
