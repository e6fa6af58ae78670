import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { type TrainFlags, train } from '../../lib/train/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { snapshotFiles } from '../helpers/hard-stop.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/** `kbb train` that fails leaves no partial output: inputs are read before any write, and a run that fails before any progress removes what it wrote. */

let dir = '';
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');

const tiny = (outputDir: string, more: Partial<TrainFlags> = {}): Partial<TrainFlags> => ({
  data_dir: join(dir, 'data'),
  output_dir: outputDir,
  tokenizer_dir: tokenizerDir,
  max_encoder_length: SAMPLE_BUILD_SETTINGS.maxSeqLength,
  max_predictions_per_seq: SAMPLE_BUILD_SETTINGS.maxPredictionsPerSeq,
  max_position_embeddings: 128,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  train_batch_size: 4,
  num_train_steps: 4,
  num_warmup_steps: 1,
  save_checkpoints_steps: 2,
  seed: 3,
  ...more,
});

beforeAll(async () => {
  await useTestBackend();
  dir = mkdtempSync(join(tmpdir(), 'kbb-train-failure-'));
  await buildPretrainingData({ ...SAMPLE_BUILD_SETTINGS, inputDir: join(projectRoot, 'data', 'sample-corpus'), tokenizerDir, outputDir: join(dir, 'data') });
  // The same data with the second record's header of one shard corrupted (its length CRC): its first
  // record, which training checks up front, is fine; the second is found when the shuffle buffer fills.
  cpSync(join(dir, 'data'), join(dir, 'corrupt'), { recursive: true });
  const shard = join(dir, 'corrupt', 'pretrain_data.tfrecord-3-of-8');
  const bytes = readFileSync(shard);
  const first = Number(bytes.readBigUInt64LE(0));
  bytes[16 + first + 9] ^= 0x40;
  writeFileSync(shard, bytes);
  // The same data with a flipped byte in every record but each shard's first: any example drawn is corrupt.
  cpSync(join(dir, 'data'), join(dir, 'corrupt-data'), { recursive: true });
  for (const name of readdirSync(join(dir, 'corrupt-data'))) {
    if (!name.startsWith('pretrain_data')) continue;
    const file = join(dir, 'corrupt-data', name);
    const records = readFileSync(file);
    let offset = 16 + Number(records.readBigUInt64LE(0));
    while (offset < records.length) {
      records[offset + 12 + 3] ^= 0x10;
      offset += 16 + Number(records.readBigUInt64LE(offset));
    }
    writeFileSync(file, records);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a failed kbb train leaves no partial output', () => {
  it('an unreadable --init_checkpoint is refused before anything is written', async () => {
    const bad = join(dir, 'bad-init');
    mkdirSync(bad);
    writeFileSync(join(bad, 'bert_model.ckpt.index'), Buffer.from('not a checkpoint index at all, only some bytes'));
    const out = join(dir, 'out-init');
    await expect(train({ flags: tiny(out, { init_checkpoint: join(bad, 'bert_model.ckpt') }) })).rejects.toThrow(/bert_model\.ckpt/);
    expect(existsSync(out)).toBe(false);
  });

  it('records whose lengths disagree with the flags are refused before anything is written', async () => {
    const out = join(dir, 'out-lengths');
    await expect(train({ flags: tiny(out, { max_encoder_length: 64, max_position_embeddings: 64, max_predictions_per_seq: 10 }) })).rejects.toThrow(
      /pretrain_data\.tfrecord/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a corrupt record found mid-way: a fresh run removes what it wrote, its folder too', async () => {
    const out = join(dir, 'out-corrupt');
    await expect(train({ flags: tiny(out, { data_dir: join(dir, 'corrupt') }) })).rejects.toThrow(/pretrain_data\.tfrecord-3-of-8/);
    expect(existsSync(out)).toBe(false);
  });

  it('a corrupt record found mid-way: a folder that held files before holds exactly them again', async () => {
    const out = join(dir, 'out-kept');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'pretrain_config.json'), '{"an": "earlier config"}\n');
    const before = snapshotFiles(out);
    await expect(train({ flags: tiny(out, { data_dir: join(dir, 'corrupt') }) })).rejects.toThrow(/pretrain_data\.tfrecord-3-of-8/);
    expect(snapshotFiles(out)).toEqual(before);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', 'pretrain_config.json']);
  });

  it('a resumed run that fails before its next checkpoint leaves the folder as it was', async () => {
    const out = join(dir, 'out-resumed');
    await train({ flags: tiny(out, { num_train_steps: 2 }) });
    const before = snapshotFiles(out, (path) => !path.startsWith('events.out.tfevents.'));
    const events = readdirSync(out).filter((name) => name.startsWith('events.out.tfevents.'));
    await expect(train({ flags: tiny(out, { num_train_steps: 4, data_dir: join(dir, 'corrupt-data') }) })).rejects.toThrow(/pretrain_data\.tfrecord.*data CRC/);
    expect(snapshotFiles(out, (path) => !path.startsWith('events.out.tfevents.'))).toEqual(before);
    expect(readdirSync(out).filter((name) => name.startsWith('events.out.tfevents.'))).toEqual(events);
  });
});
