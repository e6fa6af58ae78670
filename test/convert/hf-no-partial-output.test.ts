import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportToHuggingFace, type HfExportOptions, importFromHuggingFace, openSafetensors, writeSafetensors } from '../../lib/convert/index.js';
import { InputError } from '../../lib/fs/index.js';
import { writeTinyCheckpoint, writeTinyTokenizer } from './tiny-checkpoint.js';

/*
 * `export` and `import-hf` leave no partial output: every input is checked before the first byte is
 * written, and a failure while writing (a corrupt tensor found halfway) leaves the output folder as
 * it was, byte for byte, including when --overwrite was replacing a model there.
 */

let root = '';
let ckptDir = '';
let hfDir = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-no-partial-'));
  ckptDir = (await writeTinyCheckpoint(join(root, 'ckpt'))).dir;
  hfDir = join(root, 'hf');
  await exportToHuggingFace({ checkpointDir: ckptDir, outputDir: hfDir });
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Every file under `dir` (hidden ones too) with a hash of its bytes; undefined when `dir` is not there. */
function snapshot(dir: string): Record<string, string> | undefined {
  if (!existsSync(dir)) return undefined;
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = entry.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'folder';
  }
  return out;
}

/** A copy of the tiny checkpoint folder, to break. */
function checkpointCopy(name: string): string {
  const out = join(root, name);
  for (const entry of readdirSync(ckptDir, { recursive: true, withFileTypes: true })) {
    const from = join(entry.parentPath, entry.name);
    const to = join(out, relative(ckptDir, from));
    if (entry.isDirectory()) mkdirSync(to, { recursive: true });
    else {
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(from, to);
    }
  }
  return out;
}

/** An output folder that already holds something of the user's. */
function userFolder(name: string): string {
  const out = join(root, name);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'README.md'), '# my model\n');
  return out;
}

/** Runs `run`, expects an InputError matching `pattern`, and that each folder is as it was. */
async function expectRefusedLeavingAsItWas(run: () => Promise<unknown>, pattern: RegExp, folders: readonly string[]): Promise<InputError> {
  const before = folders.map(snapshot);
  const error = await run().then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error, String(error)).toBeInstanceOf(InputError);
  expect((error as Error).message).toMatch(pattern);
  expect(folders.map(snapshot)).toEqual(before);
  return error as InputError;
}

const exporting = (options: Partial<HfExportOptions> & { readonly outputDir: string }) => () => exportToHuggingFace({ checkpointDir: ckptDir, ...options });

describe('kbb export leaves no partial output', () => {
  it('a tokenizer folder that cannot be loaded: nothing written, a new output folder not even created', async () => {
    const tokenizer = join(root, 'bad-tokenizer');
    writeTinyTokenizer(tokenizer);
    writeFileSync(join(tokenizer, 'tokenizer_config.json'), '{"do_lower_case": ');
    const fresh = join(root, 'fresh-out');
    await expectRefusedLeavingAsItWas(exporting({ outputDir: fresh, tokenizerDir: tokenizer }), /tokenizer_config\.json/, [fresh]);
    expect(existsSync(fresh)).toBe(false);
    const user = userFolder('user-out');
    await expectRefusedLeavingAsItWas(exporting({ outputDir: user, tokenizerDir: tokenizer, pytorchBin: true }), /tokenizer_config\.json/, [user]);
  });

  it('a tokenizer folder that loads but cannot be saved (no special_tokens_map.json): the staged files are removed', async () => {
    const tokenizer = join(root, 'no-special-map');
    writeTinyTokenizer(tokenizer);
    rmSync(join(tokenizer, 'special_tokens_map.json'));
    const user = userFolder('user-out-2');
    await expectRefusedLeavingAsItWas(exporting({ outputDir: user, tokenizerDir: tokenizer }), /special_tokens_map\.json: not found/, [user]);
  });

  it("a tokenizer whose vocabulary is not the model's word embeddings: refused naming both sizes", async () => {
    const tokenizer = join(root, 'big-tokenizer');
    writeTinyTokenizer(tokenizer);
    const vocab = readFileSync(join(tokenizer, 'vocab.txt'), 'utf8');
    writeFileSync(join(tokenizer, 'vocab.txt'), vocab + Array.from({ length: 32_490 }, (_, i) => `tok${i}`).join('\n'));
    const out = join(root, 'big-tokenizer-out');
    const error = await expectRefusedLeavingAsItWas(
      exporting({ outputDir: out, tokenizerDir: tokenizer }),
      /big-tokenizer: the tokenizer has 32500 tokens, but the model's word embeddings have 10 \(.*model\.ckpt-1000: bert\/embeddings\/word_embeddings \[10, 8\]\)/,
      [out],
    );
    expect(error.file).toBe(tokenizer);
  });

  it('a data shard shorter than its index says: refused before writing, naming the file', async () => {
    const ckpt = checkpointCopy('truncated-ckpt');
    const data = join(ckpt, 'model.ckpt-1000.data-00000-of-00001');
    truncateSync(data, statSync(data).size - 10);
    const out = join(root, 'truncated-out');
    await expectRefusedLeavingAsItWas(
      () => exportToHuggingFace({ checkpointDir: ckpt, outputDir: out }),
      /model\.ckpt-1000\.data-00000-of-00001: data shard is \d+ bytes, but the index puts variable .* at bytes/,
      [out],
    );
  });

  it('a corrupt tensor found halfway through writing, with --overwrite over an earlier export: the earlier export is kept byte for byte', async () => {
    const ckpt = checkpointCopy('corrupt-ckpt');
    const data = join(ckpt, 'model.ckpt-1000.data-00000-of-00001');
    const bytes = readFileSync(data);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(data, bytes);
    const out = join(root, 'overwrite-out');
    await exportToHuggingFace({ checkpointDir: ckptDir, outputDir: out, pytorchBin: true });
    await expectRefusedLeavingAsItWas(
      () => exportToHuggingFace({ checkpointDir: ckpt, outputDir: out, pytorchBin: true, overwrite: true }),
      /checksum mismatch/,
      [out],
    );
  });

  it("a dead run's staging folder is removed by the next run; the export leaves no hidden files", async () => {
    const out = join(root, 'stale-out');
    // A pid above the kernel's limit (4194304 at most) is never alive.
    const stale = join(out, '.kbb-staging-4194305-1');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'model.safetensors'), 'half');
    const result = await exportToHuggingFace({ checkpointDir: ckptDir, outputDir: out });
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(result.files.map((f) => relative(out, f))).toEqual([
      'model.safetensors',
      'vocab.txt',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'tokenizer.json',
      'config.json',
    ]);
  });
});

describe('kbb import-hf leaves no partial output', () => {
  /** A copy of the exported HF folder, to break. */
  function hfCopy(name: string): string {
    const out = join(root, name);
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(hfDir)) copyFileSync(join(hfDir, f), join(out, f));
    return out;
  }

  it('a bad shard (its data cut short): nothing written, a new output folder not even created', async () => {
    const hf = hfCopy('hf-bad-shard');
    const shard = join(hf, 'model.safetensors');
    truncateSync(shard, statSync(shard).size - 8);
    const fresh = join(root, 'import-fresh');
    await expectRefusedLeavingAsItWas(
      () => importFromHuggingFace({ hfDir: hf, outputDir: fresh }),
      /model\.safetensors: tensor .* run past the end of the data/,
      [fresh],
    );
    const user = userFolder('import-user');
    await expectRefusedLeavingAsItWas(() => importFromHuggingFace({ hfDir: hf, outputDir: user }), /run past the end of the data/, [user]);
  });

  it('a shard whose shapes disagree with config.json: refused before writing', async () => {
    const hf = hfCopy('hf-bad-shape');
    const file = await openSafetensors(join(hf, 'model.safetensors'));
    const tensors = await Promise.all(
      [...file.tensors].map(async ([name, info]) => ({ name, dtype: info.dtype, shape: info.shape, data: await file.read(name) })),
    );
    await file.close();
    const pooler = tensors.find((t) => t.name === 'bert.pooler.bias')!;
    await writeSafetensors(join(hf, 'model.safetensors'), [
      ...tensors.filter((t) => t !== pooler),
      { ...pooler, shape: [4], data: pooler.data.subarray(0, 16) },
    ]);
    const user = userFolder('import-shape');
    await expectRefusedLeavingAsItWas(
      () => importFromHuggingFace({ hfDir: hf, outputDir: user }),
      /bert\.pooler\.bias: file has \[4\], the config needs \[8\]/,
      [user],
    );
  });

  it('a tokenizer file that is a folder: refused before writing', async () => {
    const hf = hfCopy('hf-folder-file');
    mkdirSync(join(hf, 'added_tokens.json'));
    const user = userFolder('import-folder-file');
    await expectRefusedLeavingAsItWas(
      () => importFromHuggingFace({ hfDir: hf, outputDir: user }),
      /added_tokens\.json: is a folder, expected a tokenizer file/,
      [user],
    );
  });

  it('a failure halfway through writing: the checkpoint written so far is removed, the state file never names it', async () => {
    for (const outputDir of [userFolder('import-halfway'), join(root, 'import-halfway-fresh')]) {
      const before = snapshot(outputDir);
      let calls = 0;
      const onProgress = (): void => {
        if (++calls === 5) throw new Error('interrupted');
      };
      await expect(importFromHuggingFace({ hfDir, outputDir, onProgress })).rejects.toThrow('interrupted');
      expect(snapshot(outputDir)).toEqual(before);
    }
  });

  it('the same for export, over an earlier export', async () => {
    const out = join(root, 'export-halfway');
    await exportToHuggingFace({ checkpointDir: ckptDir, outputDir: out });
    const before = snapshot(out);
    let calls = 0;
    const onProgress = (): void => {
      if (++calls === 5) throw new Error('interrupted');
    };
    await expect(exportToHuggingFace({ checkpointDir: ckptDir, outputDir: out, overwrite: true, pytorchBin: true, onProgress })).rejects.toThrow('interrupted');
    expect(snapshot(out)).toEqual(before);
  });

  it('--step that is not a non-negative integer is refused as a flag', async () => {
    await expect(importFromHuggingFace({ hfDir, outputDir: join(root, 'step-out'), step: -1 })).rejects.toThrow(
      /--step must be a non-negative integer, got -1/,
    );
    expect(existsSync(join(root, 'step-out'))).toBe(false);
  });
});
