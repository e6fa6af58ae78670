import { describe, expect, it } from 'vitest';
import { ADAMW_SIMD_WASM } from '../../lib/backend/adamw-simd-binary.js';
import { SCATTER_ADD_SIMD_WASM } from '../../lib/backend/scatter-add-simd-binary.js';
import { DROPOUT_SIMD_WASM } from '../../lib/random/dropout-simd-binary.js';
import { assembleWat, binaryModuleOf, WAT_MODULES } from '../../scripts/assemble-wat.js';

const CHECKED_IN: Record<string, string> = { ADAMW_SIMD_WASM, SCATTER_ADD_SIMD_WASM, DROPOUT_SIMD_WASM };

describe('WebAssembly modules', () => {
  it.each(WAT_MODULES)('%s: the checked-in binary is the text assembled (scripts/build-wasm.ts regenerates it)', async (path) => {
    const { constant } = binaryModuleOf(path);
    expect(CHECKED_IN[constant], `${constant} is checked in`).toBeDefined();
    expect(Buffer.from(CHECKED_IN[constant] as string, 'base64')).toEqual(Buffer.from(await assembleWat(path)));
  });
});
