import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bigBirdVariables, CheckpointReader, latestCheckpoint, type TensorToWrite, warmStart, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { copyFile, fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const dir = mkdtempSync(join(tmpdir(), 'kbb-warm-gcs-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

const WARM_OBJECTS = ['checkpoint', 'model.ckpt-0.data-00000-of-00001', 'model.ckpt-0.index'];

/** Every object of a local warm-start folder equals its namesake in the gs:// one, and there are no others. */
async function expectSameFolder(local: string, remote: string): Promise<void> {
  expect(readdirSync(local).sort()).toEqual(WARM_OBJECTS);
  expect((await fileSystemFor(remote).listRecursive(remote)).sort()).toEqual(WARM_OBJECTS);
  for (const name of WARM_OBJECTS) {
    const object = joinPath(remote, name);
    expect((await fileSystemFor(object).readFile(object)).equals(readFileSync(join(local, name))), name).toBe(true);
  }
}

describe.skipIf(!hasGcsEmulator)('kbb warm-start with gs:// paths (Storage emulator)', () => {
  it('a BERT checkpoint written to gs:// warm-starts into gs:// exactly as the same one does on disk; a second run is refused there too', async () => {
    const config = {
      model_type: 'big_bird',
      vocab_size: 11,
      hidden_size: 4,
      num_hidden_layers: 1,
      intermediate_size: 8,
      max_position_embeddings: 32,
      type_vocab_size: 2,
      num_attention_heads: 2,
    };
    // BERT's names and a 16-row position table, with Adam slots and global_step, as BERT's trainer leaves it.
    const bert = (): TensorToWrite[] => {
      const tensors: TensorToWrite[] = bigBirdVariables({ ...config, max_position_embeddings: 16 }).flatMap((v) => {
        const name = v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
        const data = new Uint8Array(Float32Array.from({ length: elementCount(v.shape) }, (_, i) => (i + name.length) / 100).buffer);
        return ['', '/adam_m', '/adam_v'].map((slot) => ({ name: `${name}${slot}`, dtype: 'float32' as const, shape: v.shape, data }));
      });
      tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) });
      return tensors;
    };
    const bucket = `gs://${uniqueBucket('warm')}`;
    const localBert = join(dir, 'bert', 'bert_model.ckpt');
    const remoteBert = `${bucket}/bert/bert_model.ckpt`;
    await writeCheckpoint(localBert, bert());
    await writeCheckpoint(remoteBert, bert());
    const localConfig = join(dir, 'bigbird.json');
    writeFileSync(localConfig, JSON.stringify(config));

    const local = await warmStart({ initCheckpoint: localBert, configFile: localConfig, outputDir: join(dir, 'warm'), seed: 3 });
    const remoteOut = `${bucket}/warm`;
    const remote = await warmStart({ initCheckpoint: remoteBert, configFile: localConfig, outputDir: remoteOut, seed: 3 });
    expect(remote.prefix).toBe(`${remoteOut}/model.ckpt-0`);
    expect(remote.plan).toEqual(local.plan);
    await expectSameFolder(join(dir, 'warm'), remoteOut);
    expect(await latestCheckpoint(remoteOut)).toBe(remote.prefix);

    await expect(warmStart({ initCheckpoint: remoteBert, configFile: localConfig, outputDir: remoteOut })).rejects.toThrow(
      `${remoteOut}/model.ckpt-0.index exists; pass --overwrite to replace it`,
    );
    await warmStart({ initCheckpoint: remoteBert, configFile: localConfig, outputDir: remoteOut, seed: 3, overwrite: true });
    await expectSameFolder(join(dir, 'warm'), remoteOut);
    // Another seed gives other fresh values: the comparison above can tell.
    await warmStart({ initCheckpoint: remoteBert, configFile: localConfig, outputDir: remoteOut, seed: 4, overwrite: true });
    const data = `${remoteOut}/model.ckpt-0.data-00000-of-00001`;
    expect((await fileSystemFor(data).readFile(data)).equals(readFileSync(join(dir, 'warm', 'model.ckpt-0.data-00000-of-00001')))).toBe(false);
  });

  it.skipIf(!hasFixtures)(
    `keras-bert-tiny (TensorFlow-written) from gs://, its config in the bucket too, warm-starts into gs:// exactly as from disk${hasFixtures ? '' : ` (${SKIP_NO_FIXTURES})`}`,
    async () => {
      const source = fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_model.ckpt');
      const bucket = `gs://${uniqueBucket('warm-tiny')}`;
      for (const suffix of ['.index', '.data-00000-of-00001']) await copyFile(source + suffix, `${bucket}/bert/bert_model.ckpt${suffix}`);
      const bertConfig = JSON.parse(readFileSync(fixture('tf-checkpoints', 'keras-bert-tiny', 'bert_config.json'), 'utf8'));
      const config = JSON.stringify({ ...bertConfig, model_type: 'big_bird', max_position_embeddings: 64, block_size: 4 });
      const localConfig = join(dir, 'tiny-config.json');
      writeFileSync(localConfig, config);
      await fileSystemFor(bucket).writeFile(`${bucket}/config.json`, config);

      const local = await warmStart({ initCheckpoint: source, configFile: localConfig, outputDir: join(dir, 'warm-tiny'), seed: 9 });
      const remote = await warmStart({
        initCheckpoint: `${bucket}/bert/bert_model.ckpt`,
        configFile: `${bucket}/config.json`,
        outputDir: `${bucket}/bigbird`,
        seed: 9,
      });
      expect(remote.plan).toEqual(local.plan);
      await expectSameFolder(join(dir, 'warm-tiny'), `${bucket}/bigbird`);
      const reader = await CheckpointReader.open(remote.prefix);
      const bert = await CheckpointReader.open(source);
      expect(
        Buffer.from(await reader.readBytes('bert/encoder/LayerNorm/gamma')).equals(Buffer.from(await bert.readBytes('bert/embeddings/LayerNorm/gamma'))),
      ).toBe(true);
      await Promise.all([reader.close(), bert.close()]);
    },
  );
});
