import * as tf from '@tensorflow/tfjs-core';
import { type DType, decodeValues } from '../checkpoint/dtypes.js';
import type { BigBirdConfig } from '../model/bigbird-config.js';
import { type BigBirdHead, bigBirdModelVariables } from '../model/variables.js';
import { BigBirdWeights, type NamedArray } from '../model/weights.js';
import { shapeText } from '../tensor/shape.js';
import { HF_BIGBIRD_TIED_PARAMETERS, hfToTfName, tfToHfName, transpose2d } from './hf-names.js';
import { openSafetensors, type SafetensorsDtype, SafetensorsError } from './safetensors.js';

/**
 * BigBird's weights from an HF `model.safetensors` (HF names, Linear weights [out, in]): renamed to TF
 * names, kernels transposed. Tied aliases and buffers are skipped; F16/BF16 widen to float32.
 */
export async function loadWeightsFromSafetensors(path: string, config: BigBirdConfig, head: BigBirdHead): Promise<BigBirdWeights> {
  const file = await openSafetensors(path);
  try {
    const arrays = new Map<string, NamedArray>();
    const unused: string[] = [];
    const expected = new Map(bigBirdModelVariables(config, head).map((v) => [v.name, v]));
    for (const [hfName, info] of file.tensors) {
      const mapped = hfToTfName(hfName);
      if (!mapped || !expected.has(mapped.tfName)) {
        if (mapped || Object.hasOwn(HF_BIGBIRD_TIED_PARAMETERS, hfName) || hfName.endsWith('position_ids')) {
          unused.push(hfName);
          continue;
        }
        throw new SafetensorsError(
          path,
          hfName,
          `${shapeText(info.shape)} is not a BigBird parameter (expected the parameters of KoBigBird's BigBird, a tied alias or position_ids)`,
        );
      }
      const values = floatValues(info.dtype, await file.read(hfName), path, hfName);
      if (mapped.transpose) {
        if (info.shape.length !== 2) throw new SafetensorsError(path, hfName, `has shape ${shapeText(info.shape)}, expected a 2-D Linear weight`);
        const [rows, cols] = info.shape;
        arrays.set(mapped.tfName, { shape: [cols, rows], values: transpose2d(values, rows, cols) });
      } else {
        arrays.set(mapped.tfName, { shape: info.shape, values });
      }
    }
    return BigBirdWeights.fromArrays(config, head, arrays, path, unused);
  } finally {
    await file.close();
  }
}

function floatValues(dtype: SafetensorsDtype, bytes: Uint8Array, path: string, tensor: string): Float32Array {
  const tfDtype: Partial<Record<SafetensorsDtype, Exclude<DType, 'string'>>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
  const target = tfDtype[dtype];
  if (!target) throw new SafetensorsError(path, tensor, `dtype ${dtype} is not a float type (expected F32, F16, BF16 or F64)`);
  const values = decodeValues(target, bytes);
  return values instanceof Float32Array ? values : Float32Array.from(values as Float64Array);
}

/**
 * TF-named tensors (parameters or their gradients) under HF parameter names, kernels transposed to
 * HF's [out, in], for comparing with HF. New tensors are returned; the caller disposes them.
 */
export function toHfNamed(tensors: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [tfName, tensor] of tensors) {
    const mapped = tfToHfName(tfName);
    if (!mapped) throw new Error(`toHfNamed: ${tfName} is not a BigBird TF variable name`);
    out.set(mapped.hfName, mapped.transpose ? tf.transpose(tensor) : tf.clone(tensor));
  }
  return out;
}
