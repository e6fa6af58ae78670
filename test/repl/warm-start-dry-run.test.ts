import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointReader } from '../../lib/checkpoint/index.js';
import { sampleBertCheckpoint, sampleBertDir } from '../../lib/package/index.js';
import { kbb } from './kbb-process.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-warm-dry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    ...JSON.parse(readFileSync(join(sampleBertDir, 'bert_config.json'), 'utf8')),
    model_type: 'big_bird',
    max_position_embeddings: 128,
    block_size: 16,
  }),
);

describe('kbb warm-start --dry_run on the sample BERT', () => {
  it('prints every BigBird variable with its source and rule, and every unused BERT variable, and writes nothing', async () => {
    const outputDir = join(dir, 'bigbird');
    const dry = kbb(['warm-start', '--init_checkpoint', sampleBertCheckpoint, '--config', config, '--output_dir', outputDir, '--dry_run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(existsSync(outputDir)).toBe(false);
    expect(dry.stdout).toMatch(/bert\/encoder\/LayerNorm\/gamma +\[32\] +rename +bert\/embeddings\/LayerNorm\/gamma +BERT's embedding LayerNorm/);
    expect(dry.stdout).toMatch(/bert\/embeddings\/position_embeddings +\[128, 32\] +fresh +random_pos_emb: a fresh table/);
    expect(dry.stdout).toMatch(/bert\/embeddings\/position_embeddings +\[512, 32\] +random_pos_emb: BERT's 512-row position table is not reused/);
    expect(dry.stdout).toMatch(/cls\/seq_relationship\/output_weights\/adam_v +\[2, 32\] +optimizer state/);
    expect(dry.stdout).toMatch(/global_step +\[\] +step counter/);
    const reader = await CheckpointReader.open(sampleBertCheckpoint);
    // Each BERT variable is on a line of its own: a source of a copy or rename, or unused.
    for (const v of reader.variables) expect(dry.stdout, v.name).toMatch(new RegExp(`(^| )${v.name.replaceAll('/', '\\/')}( |$)`, 'm'));
    await reader.close();
    expect(dry.stdout.trimEnd().split('\n').at(-1)).toBe('dry run, nothing written (43 copied, 2 renamed, 1 fresh; 94 source variables unused)');

    // Without --dry_run the same plan is shown, then written.
    const wet = kbb(['warm-start', '--init_checkpoint', sampleBertCheckpoint, '--config', config, '--output_dir', outputDir]);
    expect(wet.status, wet.stderr).toBe(0);
    const table = (out: string): string => out.trimEnd().split('\n').slice(0, -1).join('\n');
    expect(table(wet.stdout)).toBe(table(dry.stdout));
    expect(wet.stdout).toContain(`wrote ${join(outputDir, 'model.ckpt-0')} (43 copied, 2 renamed, 1 fresh; 94 source variables unused)`);
  });

  it('needs --output_dir without --dry_run, and not with it', () => {
    const missing = kbb(['warm-start', '--init_checkpoint', sampleBertCheckpoint, '--config', config]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe('kbb: warm-start: --output_dir is required (or --dry_run to write nothing)');
    expect(kbb(['warm-start', '--init_checkpoint', sampleBertCheckpoint, '--config', config, '--dry_run']).status).toBe(0);
  });

  it('fails a dry run on a config the BERT does not fit, naming the variables', () => {
    const other = join(dir, 'other-vocab.json');
    writeFileSync(other, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), vocab_size: 32500 }));
    const bad = kbb(['warm-start', '--init_checkpoint', sampleBertCheckpoint, '--config', other, '--dry_run']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
      'bert/embeddings/word_embeddings: checkpoint bert/embeddings/word_embeddings is [3000,32], the BigBird config needs [32500,32]',
    );
  });
});
