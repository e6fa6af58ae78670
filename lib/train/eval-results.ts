/** The reference's evaluation metrics (run_pretraining.py's `metric_fn` and the Estimator's `loss`, `global_step`). */
export interface EvalResults {
  readonly global_step: number;
  /** The mean of the batches' losses. */
  readonly loss: number;
  /** Σ w·[argmax = label] / Σ w over every slot. */
  readonly masked_lm_accuracy: number;
  /** Σ w·(−log p) / Σ w over every slot. */
  readonly masked_lm_loss: number;
}

/**
 * `eval_results.txt` as run_pretraining.py writes it: `key = value` per line, keys sorted, each value as
 * Python's `str` prints it (the metrics are float32 numpy scalars, so their shortest float32 form).
 */
export function formatEvalResults(results: EvalResults): string {
  return `${Object.entries(results)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key} = ${key === 'global_step' ? String(value) : float32Text(value)}`)
    .join('\n')}\n`;
}

/** The shortest decimal that reads back as the same float32, as numpy prints a float32 (`str(np.float32(x))`). */
export function float32Text(value: number): string {
  const target = Math.fround(value);
  if (!Number.isFinite(target)) return Number.isNaN(target) ? 'nan' : target > 0 ? 'inf' : '-inf';
  for (let digits = 1; digits <= 9; digits++) {
    const text = target.toPrecision(digits);
    if (Math.fround(Number(text)) === target) return pythonStyle(Number(text), digits, target);
  }
  return String(target);
}

/** numpy's float32 repr: positional for 1e-4 ≤ |x| < 1e6 (and 0), with `.0` on whole numbers; scientific otherwise. */
function pythonStyle(value: number, digits: number, float32: number): string {
  if (float32 !== 0 && (Math.abs(float32) < 1e-4 || Math.abs(float32) >= 1e6)) {
    const [mantissa, exp] = value.toExponential(digits - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const power = Number(exp);
    return `${trimmed}e${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
  }
  const text = String(value);
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}
