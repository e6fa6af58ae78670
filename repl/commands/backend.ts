import { defineCommand } from '../registry/command-definition.js';

export const backendCommand = defineCommand({
  path: ['backend'],
  description: 'show the TensorFlow.js backend the model runs on, why nothing faster does, and its matmul speed',
  flags: [
    {
      name: 'prefer',
      type: 'string',
      value: 'tensorflow|native|wasm|cpu',
      description: 'start from this backend (default: KBB_BACKEND, else the best installed)',
    },
    { name: 'wasm_threads', type: 'int', description: 'threads for the wasm backend (default: KBB_WASM_THREADS, else one per core, at most 8)' },
    { name: 'native_threads', type: 'int', description: 'threads for the native backend (default: KBB_NATIVE_THREADS, else one per core, at most 8)' },
    { name: 'json', type: 'boolean', description: 'print the selection and the speed as JSON' },
  ],
  async run(args, io) {
    // TensorFlow.js loads only for this command, not at every kbb start.
    const { BACKEND_PREFERENCES, describeBackendSelection, measureMatMulSpeed, selectBackend } = await import('../../lib/backend/index.js');
    const prefer = args.prefer;
    if (prefer !== undefined && !(BACKEND_PREFERENCES as readonly string[]).includes(prefer)) {
      throw new Error(`--prefer ${prefer} is not one of ${BACKEND_PREFERENCES.join(', ')}`);
    }
    const selection = await selectBackend({
      ...(prefer === undefined ? {} : { prefer: prefer as (typeof BACKEND_PREFERENCES)[number] }),
      ...(args.wasm_threads === undefined ? {} : { wasmThreads: args.wasm_threads }),
      ...(args.native_threads === undefined ? {} : { nativeThreads: args.native_threads }),
    });
    const speed = await measureMatMulSpeed();
    if (args.json) return io.json({ ...selection, matmul: speed });
    io.text(describeBackendSelection(selection));
    const [rows, inner, cols] = speed.shape;
    io.text(`matmul [${rows}×${inner}]·[${inner}×${cols}]: ${speed.gflops.toFixed(1)} GFLOP/s (${speed.milliseconds.toFixed(1)} ms)`);
  },
});
