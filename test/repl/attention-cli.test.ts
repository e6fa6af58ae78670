import { describe, expect, it } from 'vitest';
import { blockSparseLayout, LAYOUT_CELL_KINDS } from '../../lib/model/attention-layout.js';
import { bigBirdRandomPlan } from '../../lib/model/random-plans.js';
import { kbb } from './kbb-process.js';

describe('kbb attention', () => {
  it("draws, as text, the layout notebook 04 charts: the model's own key lists for that length, layer and head", () => {
    const run = kbb(['attention', '--max_encoder_length', '4096', '--block_size', '64', '--layer', '11', '--head', '5']);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('4096 tokens = 64 blocks of 64; reference train plan (old-paper-plan), layer 11 head 5');
    const rows = lines.filter((line) => /^ ?\d+ [G·WR]+$/.test(line)).map((line) => line.trim().split(' ')[1]);
    expect(rows).toHaveLength(64);
    // Independently: the layout of the same plan, cell by cell.
    const plan = bigBirdRandomPlan({
      sequenceLength: 4096,
      blockSize: 64,
      numRandomBlocks: 3,
      numHeads: 12,
      numLayers: 12,
      maxPositionEmbeddings: 4096,
      mode: 'train',
      reference: 'tf',
    });
    const layout = blockSparseLayout(plan, 11, 5);
    const letter = { none: '·', global: 'G', window: 'W', random: 'R' } as const;
    expect(rows).toEqual(layout.cells.map((row) => row.map((code) => letter[LAYOUT_CELL_KINDS[code]]).join('')));
    expect(lines[1]).toContain(`computed ${(100 * layout.computedFraction).toFixed(1)}% of the full score matrix`);
    expect(rows[0]).toBe('G'.repeat(64));
    expect([...rows[30]].filter((c) => c === 'W')).toHaveLength(3);
  });

  it('says when the model would run full attention instead, and refuses a layer it does not have', () => {
    const short = kbb(['attention', '--max_encoder_length', '256', '--block_size', '16', '--max_position_embeddings', '512']);
    expect(short.stdout).toContain("note: at ≤ 512 tokens KoBigBird's TF model runs full attention instead of this layout");
    const bad = kbb(['attention', '--layer', '12']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('kbb: --layer 12 is not in 0..11');
  });
});
