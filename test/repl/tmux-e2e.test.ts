import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/fixtures.js';
import { hasTmux, promptIsBack, startTmuxSession, type TmuxSession } from '../helpers/tmux-session.js';
import { kbbBin } from './kbb-process.js';

if (!hasTmux) console.warn('skipping the kbb> end-to-end test: tmux is not installed (.ci/run installs it with apt-get)');

describe.skipIf(!hasTmux)('kbb> in a real terminal (tmux)', () => {
  let dir = '';
  let session: TmuxSession;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kbb-e2e-'));
    // The exit status is printed by the shell: tmux's own #{pane_dead_status} is sometimes never
    // filled in when the pane's output ends before tmux reaps the process (seen with tmux 3.3a).
    // CI=true as CI runners set it: Ink would then draw only its last frame, and kbb must not.
    session = startTmuxSession('kbb', `cd ${projectRoot} && env HOME=${dir} CI=true ${process.execPath} ${kbbBin}; echo "[kbb exited with status $?]"`);
  });
  afterAll(() => {
    session.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tokenize, build-tfrecord with its progress bar, tfrecord show, train stopped by Ctrl-C, cancel, a bad command, exit', async () => {
    await session.waitFor(promptIsBack, 'the kbb> prompt');

    session.send('tokenize 도서관에서 책을', 'Enter');
    let s = await session.waitForText('3 tokens, 2 words');
    expect(s).toMatch(/tokens +도서관 +##에서 +책을/);

    const out = join(dir, 'tfrecords');
    session.send(
      `build-tfrecord --input_dir data/sample-corpus --tokenizer_dir data/sample-tokenizer --output_dir ${out} --max_seq_length 128 --num_processes 1 --num_shards 2 --dupe_factor 2 --do_whole_word_mask`,
      'Enter',
    );
    s = await session.waitForText(`manifest  ${out}/build_manifest.json`);
    // The finished bar stays on screen, with its rate and ETA.
    expect(s).toMatch(/building █{30} 100% \| 144\.6 KB of 144\.6 KB \| \d+ examples \| [\d.]+ [KM]B\/s \| ETA 0s/);
    expect(s).toMatch(/wrote +\d+ examples into 2 of 2 shards/);

    session.send(`tfrecord show ${out}/pretrain_data.tfrecord-0-of-2 --n 1`, 'Enter');
    s = await session.waitForText('⟦x⟧ x masked as [MASK]');
    expect(s).toMatch(/example 0 of pretrain_data\.tfrecord-0-of-2: 128 tokens/);
    expect(s).toMatch(/ +\d+ +\[MASK\] +\S+ +masked/);

    // kbb> train shows its bar; Ctrl-C stops it after the step, with a checkpoint to resume from.
    const run = join(dir, 'run');
    session.send(
      `train --data_dir ${out} --output_dir ${run} --tokenizer_dir data/sample-tokenizer --max_encoder_length 128 --max_predictions_per_seq 76 ` +
        '--max_position_embeddings 128 --hidden_size 32 --num_hidden_layers 1 --num_attention_heads 2 --intermediate_size 64 --num_train_steps 100000',
      'Enter',
    );
    await session.waitFor(
      (text) => /training █*░+ \d+% \| [\d,]+ of [\d,]+ \| \d+\/100000 step \| [\d.]+ loss \| [\d.e+-]+ lr \| [\d,]+ tokens\/s/.test(text),
      'the training bar',
    );
    session.send('C-c');
    s = await session.waitFor(
      (text) => /cancelled: training stopped at step \d+ \(model\.ckpt-\d+ saved\); run the same command to resume/.test(text) && promptIsBack(text),
      'training to stop',
    );
    const stoppedAt = /training stopped at step (\d+)/.exec(s)![1];
    expect(readFileSync(join(run, 'checkpoint'), 'utf8')).toContain(`model_checkpoint_path: "model.ckpt-${stoppedAt}"`);
    expect(existsSync(join(run, `model.ckpt-${stoppedAt}.index`))).toBe(true);

    // Ctrl-C during a long build: back to the prompt, nothing left in the output folder.
    const cancelled = join(dir, 'cancelled');
    session.send(
      `build-tfrecord --input_dir data/sample-corpus --tokenizer_dir data/sample-tokenizer --output_dir ${cancelled} --num_processes 1 --num_shards 2 --dupe_factor 100000`,
      'Enter',
    );
    await session.waitFor((text) => /building █*░+ \d+%/.test(text) && text.includes('Ctrl-C cancels'), 'the live progress bar');
    session.send('C-c');
    s = await session.waitFor((text) => text.trimEnd().endsWith('cancelled\nkbb>'), 'the cancel');
    expect(existsSync(cancelled) ? readdirSync(cancelled) : []).toEqual([]);

    session.send('no-such-command', 'Enter');
    s = await session.waitForText("error: unknown command 'no-such-command'");
    await session.waitFor(promptIsBack, 'the prompt after the error');

    // ↑ brings the last line back; Ctrl-U clears it again.
    session.send('Up');
    await session.waitFor((text) => /kbb> no-such-command\s*$/.test(text.trimEnd()), 'the history');
    session.send('C-u', 'exit', 'Enter');
    s = await session.waitFor((text) => /\[kbb exited with status \d+\]/.test(text), 'kbb to exit', 30_000);
    expect(s).toContain('[kbb exited with status 0]');
    const history = readFileSync(join(dir, '.kbb_history'), 'utf8').split('\n');
    expect(history[0]).toBe('tokenize 도서관에서 책을');
    expect(history).toContain('no-such-command');
  });
});
