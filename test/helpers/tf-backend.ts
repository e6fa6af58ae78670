import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/**
 * The TensorFlow.js backend the model tests run on. For now the reference cpu backend; it becomes
 * the project's backend selection (wasm in CI) once that lands, so every model test follows it.
 */
export async function useTestBackend(): Promise<string> {
  await tf.setBackend('cpu');
  await tf.ready();
  return tf.getBackend();
}
