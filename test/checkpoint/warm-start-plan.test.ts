import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, planWarmStartRun, type WarmStartPlan, warmStart, warmStartSummary } from '../../lib/checkpoint/index.js';
import { sampleBertCheckpoint, sampleBertDir } from '../../lib/package/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-warm-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A BigBird config.json with the sample BERT's sizes and a 128-row position table, with `overrides`. */
function configFile(name: string, overrides: Record<string, unknown> = {}): string {
  const bert = JSON.parse(readFileSync(join(sampleBertDir, 'bert_config.json'), 'utf8'));
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...bert, hidden_act: 'gelu_new', model_type: 'big_bird', max_position_embeddings: 128, block_size: 16, ...overrides }));
  return path;
}

describe('planWarmStartRun (kbb warm-start --dry_run) on the sample BERT', () => {
  it('is the plan warmStart shows and follows, from the same files', async () => {
    const config = configFile('bigbird');
    const planned = await planWarmStartRun({ initCheckpoint: sampleBertCheckpoint, configFile: config });
    const outputDir = join(dir, 'written');
    let seen: WarmStartPlan | undefined;
    const run = await warmStart({ initCheckpoint: sampleBertCheckpoint, configFile: config, outputDir, onPlan: (plan) => (seen = plan) });
    expect(planned).toEqual(run.plan);
    expect(planned).toEqual(seen);
    expect(warmStartSummary(planned)).toBe(`${planned.rows.length - 3} copied, 2 renamed, 1 fresh; ${planned.unused.length} source variables unused`);
  });

  it('keeps BERT positions when asked, and refuses a table of another length as warmStart does', async () => {
    const same = await planWarmStartRun({
      initCheckpoint: sampleBertCheckpoint,
      configFile: configFile('bert-length', { max_position_embeddings: 512 }),
      randomPositionEmbeddings: false,
    });
    expect(same.rows.find((r) => r.target === 'bert/embeddings/position_embeddings')).toMatchObject({ action: 'copy', shape: [512, 32] });
    expect(warmStartSummary(same)).toMatch(/^\d+ copied, 2 renamed, 0 fresh; \d+ source variables unused$/);

    const longer = {
      initCheckpoint: sampleBertCheckpoint,
      configFile: configFile('longer', { max_position_embeddings: 4096 }),
      randomPositionEmbeddings: false,
    };
    await expect(planWarmStartRun(longer)).rejects.toThrow(CheckpointError);
    // The hint names what to check: the position table's length, not the vocabulary.
    await expect(planWarmStartRun(longer)).rejects.toThrow(
      /^warm start: 1 shape mismatch\(es\) \(with random_pos_emb off, BERT's position table is kept: is max_position_embeddings the BERT's\?\):\n/,
    );
    await expect(planWarmStartRun({ initCheckpoint: sampleBertCheckpoint, configFile: configFile('vocab', { vocab_size: 32500 }) })).rejects.toThrow(
      /^warm start: 2 shape mismatch\(es\) \(is vocab_size \/ hidden_size the BERT's\?\):\n {2}bert\/embeddings\/word_embeddings: .*\n {2}cls\/predictions\/output_bias: /,
    );
    await expect(planWarmStartRun(longer)).rejects.toThrow(
      'bert/embeddings/position_embeddings: checkpoint bert/embeddings/position_embeddings is [512,32], the BigBird config needs [4096,32]',
    );
    await expect(warmStart({ ...longer, outputDir: join(dir, 'longer') })).rejects.toThrow('[512,32], the BigBird config needs [4096,32]');
    expect(existsSync(join(dir, 'longer'))).toBe(false);
  });
});
