import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import type { TrainFlags } from '../train/train-flags.js';
import { readTpuPlanInputs } from './read-tpu-plan-inputs.js';
import { type TpuPlanInputs, tpuPlanProblems } from './tpu-checks.js';
import { launchScript, makeTpuPlan, type TpuPlan } from './tpu-plan.js';
import { TPU_PLAN_FILES, type TpuSettings } from './tpu-settings.js';

export interface PlanTpuResult {
  readonly inputs: TpuPlanInputs;
  /** One line each; when there are any, no plan is made or written. */
  readonly problems: readonly string[];
  readonly plan?: TpuPlan;
  /** `launch.sh` and `plan.json`, where they were written. */
  readonly files?: { readonly launch: string; readonly plan: string };
}

/**
 * `kbb tpu plan`: reads and checks the data, tokenizer, config and init checkpoint against the
 * trainer's flags and the TPU, and, when nothing is wrong, writes `launch.sh` and `plan.json` to
 * `plan_dir` (`plan.json` last, so a plan folder with it is complete).
 */
export async function planTpu(flags: Partial<TrainFlags>, tpu: Partial<TpuSettings> = {}): Promise<PlanTpuResult> {
  const inputs = await readTpuPlanInputs(flags, tpu);
  const problems = tpuPlanProblems(inputs);
  if (problems.length > 0) return { inputs, problems };
  const plan = makeTpuPlan(inputs);
  const dir = inputs.tpu.plan_dir;
  const files = { launch: joinPath(dir, TPU_PLAN_FILES.launch), plan: joinPath(dir, TPU_PLAN_FILES.plan) };
  const fs = fileSystemFor(dir);
  await fs.writeFile(files.launch, launchScript(plan));
  await fs.writeFile(files.plan, `${JSON.stringify(plan, null, 2)}\n`);
  return { inputs, problems, plan, files };
}

/** A `plan.json` (or the folder holding one), checked to be a plan. */
export async function readTpuPlan(path: string): Promise<TpuPlan> {
  const fs = fileSystemFor(path);
  const file = (await fs.stat(path))?.isDirectory ? joinPath(path, TPU_PLAN_FILES.plan) : path;
  let plan: Partial<TpuPlan>;
  try {
    plan = JSON.parse((await fs.readFile(file)).toString('utf8')) as Partial<TpuPlan>;
  } catch (error) {
    throw new Error(`${file}: not a plan written by kbb tpu plan (${(error as Error).message.split('\n')[0]})`);
  }
  if (plan.kind !== 'kbb-tpu-plan') throw new Error(`${file}: not a plan written by kbb tpu plan (no "kind": "kbb-tpu-plan")`);
  for (const key of ['project', 'zone', 'tpu_name', 'accelerator_type', 'runtime_version', 'startup_script'] as const) {
    if (typeof plan[key] !== 'string' || plan[key] === '') throw new Error(`${file}: the plan has no ${key}`);
  }
  return plan as TpuPlan;
}
