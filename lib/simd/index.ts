/** What kbb uses of the WebAssembly API (Node's typings, without the DOM library, declare too little of it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
}

/** A module's linear memory, as its exports give it. */
export interface SimdMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The exports of the module in `base64` (which exports its `memory`), its memory grown to at least
 * `bytes`; undefined where this engine has no WebAssembly or does not validate the module (no SIMD).
 */
export function instantiateSimdModule<T extends { readonly memory: SimdMemory }>(base64: string, bytes: number): T | undefined {
  const webAssembly = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  const binary = Buffer.from(base64, 'base64');
  if (webAssembly === undefined || !webAssembly.validate(binary)) return undefined;
  const exports = new webAssembly.Instance(new webAssembly.Module(binary)).exports as T;
  const pages = Math.ceil((bytes - exports.memory.buffer.byteLength) / 65536);
  if (pages > 0) exports.memory.grow(pages);
  return exports;
}
