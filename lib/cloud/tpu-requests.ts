import type { protos } from '@google-cloud/tpu';
import { type TpuPlan, tpuNodeName } from './tpu-plan.js';

type CreateNodeRequest = protos.google.cloud.tpu.v2.ICreateNodeRequest;
type DeleteNodeRequest = protos.google.cloud.tpu.v2.IDeleteNodeRequest;

/** The label kbb puts on what it creates, so a console listing tells its TPUs apart. */
export const KBB_LABEL = Object.freeze({ 'created-by': 'kbb' });

/**
 * The TPU API v2 request that creates the plan's VM (`TpuClient.createNode`): what
 * `gcloud compute tpus tpu-vm create` sends, with the trainer's startup script in the metadata.
 * External IPs stay on: the startup script clones KoBigBird from GitHub and installs from PyPI.
 */
export function createNodeRequest(plan: TpuPlan): CreateNodeRequest {
  return {
    parent: `projects/${plan.project}/locations/${plan.zone}`,
    nodeId: plan.tpu_name,
    node: {
      acceleratorType: plan.accelerator_type,
      runtimeVersion: plan.runtime_version,
      networkConfig: { enableExternalIps: true },
      ...(plan.spot ? { schedulingConfig: { spot: true } } : {}),
      labels: { ...KBB_LABEL },
      metadata: { 'startup-script': plan.startup_script },
    },
  };
}

/** The request that deletes the plan's VM (`TpuClient.deleteNode`). */
export function deleteNodeRequest(plan: Pick<TpuPlan, 'project' | 'zone' | 'tpu_name'>): DeleteNodeRequest {
  return { name: tpuNodeName(plan) };
}
