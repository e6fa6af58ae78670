import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHfConfigJson } from '../../lib/convert/hf-config-json.js';
import { copyFile, writeFileAt } from '../../lib/fs/index.js';
import { formatTfConfigJson, hfConfigFromJson, readBigBirdConfig, tfConfigFromHf } from '../../lib/model/config-files.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

/* A BigBird config read from a bucket is the config read from disk. */

const localRoot = mkdtempSync(join(tmpdir(), 'kbb-config-gcs-'));
afterAll(async () => {
  rmSync(localRoot, { recursive: true, force: true });
});

describe.skipIf(!hasGcsEmulator)('readBigBirdConfig from gs:// (emulator)', () => {
  it('an HF config.json and a KoBigBird pretrain_config.json read as on disk', async () => {
    const base = hfConfigFromJson({ model_type: 'big_bird', vocab_size: 32500, max_position_embeddings: 1024, block_size: 32 });
    const files: Record<string, string> = {
      'config.json': join(localRoot, 'config.json'),
      'pretrain_config.json': join(localRoot, 'pretrain_config.json'),
    };
    writeFileSync(files['config.json'], formatHfConfigJson(base));
    writeFileSync(files['pretrain_config.json'], formatTfConfigJson(tfConfigFromHf(base)));
    if (hasFixtures) files['golden.json'] = fixture('golden-bigbird', GOLDEN_BIGBIRD_CASES[0], 'config.json');
    const bucket = `gs://${uniqueBucket('config')}`;
    for (const [name, local] of Object.entries(files)) {
      await copyFile(local, `${bucket}/run/${name}`);
      const config = await readBigBirdConfig(`${bucket}/run/${name}`);
      expect(config, name).toEqual(await readBigBirdConfig(local));
      if (name === 'config.json') expect(config).toEqual(base);
      if (name === 'pretrain_config.json') expect(config.max_position_embeddings).toBe(1024);
    }
  });

  it('a missing or broken config is one line naming the gs:// path', async () => {
    const bucket = `gs://${uniqueBucket('config-errors')}`;
    await expect(readBigBirdConfig(`${bucket}/run/config.json`)).rejects.toMatchObject({
      message: `${bucket}/run/config.json: config file not found`,
      code: 'ENOENT',
    });
    await writeFileAt(`${bucket}/run/bad.json`, '{"model_type": ');
    await expect(readBigBirdConfig(`${bucket}/run/bad.json`)).rejects.toThrow(new RegExp(`^${bucket}/run/bad\\.json: not valid JSON \\([^\\n]*\\)$`));
    await writeFileAt(`${bucket}/run/bert.json`, '{"model_type": "bert"}');
    await expect(readBigBirdConfig(`${bucket}/run/bert.json`)).rejects.toThrow(`${bucket}/run/bert.json: model_type is "bert", expected "big_bird"`);
  });
});

it('a missing local config says so in one line too', async () => {
  const missing = join(localRoot, 'nope', 'config.json');
  await expect(readBigBirdConfig(missing)).rejects.toMatchObject({ message: `${missing}: config file not found`, code: 'ENOENT' });
});
