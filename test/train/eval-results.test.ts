import { describe, expect, it } from 'vitest';
import { float32Text, formatEvalResults } from '../../lib/train/index.js';
import { hasPythonNumpy, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';

/** eval_results.txt as run_pretraining.py writes it: `key = str(value)` for sorted keys, the metrics numpy float32s. */

describe('eval_results.txt', () => {
  it('sorted `key = value` lines, the step as an integer', () => {
    expect(formatEvalResults({ global_step: 1500, loss: 6.25, masked_lm_accuracy: 0.1, masked_lm_loss: 6.125 })).toBe(
      'global_step = 1500\nloss = 6.25\nmasked_lm_accuracy = 0.1\nmasked_lm_loss = 6.125\n',
    );
  });

  it.skipIf(!hasPythonNumpy)('prints each metric as numpy prints a float32 (str(np.float32(x))), the shortest digits that read back', () => {
    const values = [
      0,
      1,
      2.5,
      0.1,
      1 / 3,
      6.771809539239289,
      0.057377049,
      123456.7,
      1e-5,
      3.2e-7,
      1e17,
      7.5e22,
      -2.25,
      0.0001,
      0.0001000001,
      999999.9,
      1000000.1,
      12345678,
    ];
    const expected = runPython(
      ['-c', `import numpy as np, json, sys\nfor x in json.load(sys.stdin): print(str(np.float32(x)))`],
      Buffer.from(JSON.stringify(values)),
    )
      .trim()
      .split('\n');
    expect(values.map(float32Text)).toEqual(expected);
  });
  if (!hasPythonNumpy) it.skip(SKIP_NO_PYTHON, () => {});
});
