import { Identity, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { replaceWasmKernel, wasmInternals } from './wasm-internals.js';

/**
 * The wasm backend's `Identity` (tfjs-backend-wasm 4.22) copies the whole tensor into a new heap block,
 * where the cpu and webgl backends share the data and count a reference. Identity is what the engine
 * runs for `tf.clone`, and the engine clones every tensor a gradient saves for the backward pass
 * (`saveTensorsForBackwardMode`), so on stock wasm every activation a training step keeps is kept
 * twice, and the forward tidy holds both copies until it ends: at BigBird-base shape, 1024 tokens,
 * that was hundreds of MiB of the step's peak. Tensor data is immutable in TensorFlow.js (a variable's
 * `assign` swaps its data id, nothing writes in place), so sharing is safe, and it is what the other
 * backends do. Strings keep the stock kernel (they live on the JS side).
 */
function identityWith(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return stock(args);
    const backend = wasmInternals(args.backend);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}

/** Replaces wasm's `Identity` with the data-sharing one (idempotent). */
export function registerWasmIdentity(): void {
  replaceWasmKernel(Identity, identityWith);
}
