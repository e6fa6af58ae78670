import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../lib/backend/select-backend.js';

/**
 * The TensorFlow.js backend the model tests run on: the project's own selection, so the tests
 * exercise what users get (wasm here and in CI, where tfjs-node cannot install);
 * `KBB_BACKEND=cpu` runs them on the reference cpu backend instead.
 */
export async function useTestBackend(): Promise<string> {
  return (await selectBackend()).backend;
}
