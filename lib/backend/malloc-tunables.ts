/**
 * How glibc's malloc should treat the native backend's large arrays, and whether this process runs so.
 *
 * By default glibc serves every allocation over 32 MiB with a fresh `mmap` and returns it with
 * `munmap` when freed. A training step makes and frees dozens of such arrays (the binding of ONNX
 * Runtime hands each kernel's output back in a new buffer; V8 frees ArrayBuffers on its own threads),
 * so every large output first page-faults all of its memory in: 24,376 faults and 45–60 ms for a
 * [32500, 768] array on this project's 2-vCPU machines, against 13 ms for the kernel on memory the
 * process already has. With `mmap_max=0` every allocation comes from the heap, and with a trim
 * threshold of 1 TiB freed memory stays there for the next one; the process keeps its peak instead
 * of returning memory to the system, as PyTorch's and TensorFlow's caching allocators do.
 *
 * glibc reads `GLIBC_TUNABLES` only when a process starts, so a running process cannot change it: the
 * `kbb` executable sets it on its `#!` line, bench:model sets it for its children, and the notebook
 * kernel spec in its `env`. Other C libraries (musl, macOS) ignore the variable.
 */
export const NATIVE_MALLOC_TUNABLES = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776';

/** Whether `env` (this process's by default) carries every setting of `NATIVE_MALLOC_TUNABLES`. */
export function hasNativeMallocTunables(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = new Set((env.GLIBC_TUNABLES ?? '').split(':'));
  return NATIVE_MALLOC_TUNABLES.split(':').every((setting) => set.has(setting));
}

/** `env` with `NATIVE_MALLOC_TUNABLES` added to its `GLIBC_TUNABLES` (settings it already has kept). */
export function withNativeMallocTunables(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (hasNativeMallocTunables(env)) return env;
  const own = NATIVE_MALLOC_TUNABLES.split(':');
  const names = new Set(own.map((setting) => setting.split('=')[0]));
  const kept = (env.GLIBC_TUNABLES ?? '').split(':').filter((setting) => setting !== '' && !names.has(setting.split('=')[0]));
  return { ...env, GLIBC_TUNABLES: [...kept, ...own].join(':') };
}

/** The C library's version where it is glibc, else undefined (musl, macOS, Windows). */
export function glibcVersion(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}
