import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** lib/backend/adamw-simd.wat assembled by WABT, SIMD on. */
export async function assembleAdamWSimd(): Promise<Uint8Array> {
  const source = fileURLToPath(new URL('../lib/backend/adamw-simd.wat', import.meta.url));
  const module = (await wabt()).parseWat('adamw-simd.wat', readFileSync(source, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
