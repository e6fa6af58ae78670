/** What `kbb tpu plan` takes beyond the trainer's flags (whose TPU flags name the VM, zone and project). */
export interface TpuSettings {
  /** gcloud's `--accelerator-type`: `v3-8` is KoBigBird's (8 cores × per-core batch 4 = 32). */
  readonly accelerator_type: string;
  /** The TPU VM software version: a TensorFlow runtime that still has `tf.estimator` (≤ 2.15). */
  readonly runtime_version: string;
  /** A queued resource (`gcloud compute tpus queued-resources create`), which waits for capacity, instead of a VM created at once. */
  readonly queued_resource: boolean;
  /** A Spot TPU: much cheaper, but Google may stop it at any time (the trainer resumes from its last checkpoint on the next boot). */
  readonly spot: boolean;
  /** Training speed to estimate the run's time with (from a short run, or a published figure); none, no estimate. */
  readonly steps_per_sec?: number;
  /** What the TPU costs per hour, in any currency, for the cost estimate. */
  readonly price_per_hour?: number;
  /** Where `launch.sh` and `plan.json` are written (a local folder or `gs://`). */
  readonly plan_dir: string;
}

export const TPU_DEFAULTS: TpuSettings = Object.freeze({
  accelerator_type: 'v3-8',
  // TF 2.16 removed tf.estimator, which run_pretraining.py is built on; 2.15.1 is the newest runtime
  // that has it. KoBigBird pinned TF 2.3.1, which TPU VMs no longer offer (`ctpu`, which made the TPU
  // nodes it ran on, is gone too). `se`: the stream-executor runtime TPUEstimator was written for.
  runtime_version: 'tpu-vm-tf-2.15.1-se',
  queued_resource: false,
  spot: false,
  plan_dir: 'tpu-plan',
});

/** The plan's files in `plan_dir`. */
export const TPU_PLAN_FILES = Object.freeze({
  /** The script to run in Cloud Shell: creates the TPU VM with the trainer's startup script. */
  launch: 'launch.sh',
  /** Everything `kbb tpu launch --plan` and `kbb tpu delete --plan` need. */
  plan: 'plan.json',
});

/** What one TPU slice is, as TensorFlow on its VM sees it. */
export interface TpuAccelerator {
  /** TPU devices TPUEstimator shards the batch over (its `num_shards`, the trainer's `--num_tpu_cores`). */
  readonly cores: number;
  /** VMs in the slice; the startup script runs one trainer, so only 1 works. */
  readonly hosts: number;
}

/**
 * The devices and hosts of an accelerator type, from Google's naming: v2 and v3 count TensorCores
 * (8 per host); v4 and v5p count TensorCores too, but a chip's two cores are one megacore device
 * (4 chips per host); v5e (`v5litepod`) counts chips, one core each (8 on one host). Undefined for a
 * type it does not know (v6e has no TensorFlow runtime).
 */
export function tpuAccelerator(type: string): TpuAccelerator | undefined {
  const match = /^(v2|v3|v4|v5p|v5litepod)-(\d+)$/.exec(type);
  if (!match) return undefined;
  const n = Number(match[2]);
  if (n < 1) return undefined;
  switch (match[1]) {
    case 'v2':
    case 'v3':
      return { cores: n, hosts: Math.max(1, Math.ceil(n / 8)) };
    case 'v4':
    case 'v5p':
      return { cores: n / 2, hosts: Math.max(1, Math.ceil(n / 8)) };
    default:
      return { cores: n, hosts: n <= 8 ? 1 : Math.ceil(n / 4) };
  }
}

/** The TensorFlow version of a TPU VM runtime (`tpu-vm-tf-2.15.1-se` → [2, 15]); undefined for a runtime without TensorFlow. */
export function runtimeTensorflowVersion(runtime: string): readonly [number, number] | undefined {
  const match = /^tpu-vm-tf-(\d+)\.(\d+)(\.\d+)?(-|$)/.exec(runtime);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** The first TensorFlow without `tf.estimator`. */
export const TF_WITHOUT_ESTIMATOR = [2, 16] as const;
