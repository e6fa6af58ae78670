import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** The WebAssembly text modules kbb carries, each assembled into the `-binary.ts` file beside it. */
export const WAT_MODULES = ['lib/backend/adamw-simd.wat', 'lib/backend/scatter-add-simd.wat', 'lib/random/dropout-simd.wat'] as const;

/** A module of WAT_MODULES (a path from the project root) assembled by WABT, SIMD on. */
export async function assembleWat(path: (typeof WAT_MODULES)[number]): Promise<Uint8Array> {
  const source = fileURLToPath(new URL(`../${path}`, import.meta.url));
  const module = (await wabt()).parseWat(basename(path), readFileSync(source, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

/** Where a module's binary is checked in, and the name it is exported under. */
export function binaryModuleOf(path: (typeof WAT_MODULES)[number]): { readonly file: string; readonly constant: string } {
  const stem = basename(path, '.wat');
  return { file: path.replace(/\.wat$/, '-binary.ts'), constant: `${stem.replace(/-/g, '_').toUpperCase()}_WASM` };
}
