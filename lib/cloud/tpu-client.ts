import type { protos } from '@google-cloud/tpu';

/*
 * The two calls that reach Google: thin on purpose, so that everything worth testing is in the
 * requests (tpu-requests.ts). They need Application Default Credentials and a project with the TPU
 * API enabled, which no test here has. The client is loaded on first use: it brings gRPC, which the
 * rest of kbb does not need.
 */

const LOGIN = 'gcloud auth application-default login';

/** One line for a failed TPU API call: what was asked, the API's reason, and what to run where that is credentials. */
function tpuApiError(error: unknown, what: string): Error {
  const e = error as { code?: number; details?: string; message?: string };
  const reason = (e.details || e.message || String(error)).split('\n')[0];
  // gRPC status codes: 7 PERMISSION_DENIED, 16 UNAUTHENTICATED.
  const hint =
    e.code === 16 || /default credentials|invalid_grant|reauth/i.test(reason)
      ? `; run \`${LOGIN}\``
      : e.code === 7
        ? '; check that the TPU API is enabled in the project and that your account may create TPUs there'
        : '';
  return new Error(`${what}: ${reason}${hint}`, { cause: error });
}

async function tpuClient() {
  const { v2 } = await import('@google-cloud/tpu');
  return new v2.TpuClient();
}

/** Creates the TPU VM and waits until the API reports it made (a few minutes). Returns the node. */
export async function sendCreateNode(request: protos.google.cloud.tpu.v2.ICreateNodeRequest): Promise<protos.google.cloud.tpu.v2.INode> {
  const what = `creating TPU ${request.nodeId} in ${request.parent}`;
  try {
    const client = await tpuClient();
    const [operation] = await client.createNode(request);
    const [node] = await operation.promise();
    return node;
  } catch (error) {
    throw tpuApiError(error, what);
  }
}

/** Deletes the TPU VM and waits until it is gone. */
export async function sendDeleteNode(request: protos.google.cloud.tpu.v2.IDeleteNodeRequest): Promise<void> {
  try {
    const client = await tpuClient();
    const [operation] = await client.deleteNode(request);
    await operation.promise();
  } catch (error) {
    throw tpuApiError(error, `deleting TPU ${request.name}`);
  }
}
