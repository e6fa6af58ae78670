import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PytorchBinError, type PytorchTensorSource, writePytorchBin } from '../../lib/convert/pytorch-bin.js';
import { openSafetensors } from '../../lib/convert/safetensors.js';
import { contiguousStrides, stateDictPickle } from '../../lib/convert/state-dict-pickle.js';
import { fixture, hasFixtures, SKIP_NO_FIXTURES } from '../helpers/fixtures.js';
import { hasPythonNumpy, INSPECT_PYTORCH_BIN, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-pytorch-bin-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface InspectedEntry {
  readonly name: string;
  readonly size: number;
  readonly compressed: boolean;
  readonly dataOffset: number;
  readonly sha256: string;
}

interface InspectedTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly stride: number[];
  readonly storageKey: string;
  readonly sha256: string;
}

interface Inspection {
  readonly entries: InspectedEntry[];
  readonly byteorder: string;
  readonly version: string;
  readonly globals: string[];
  readonly opcodes: string[];
  readonly storagesLoaded: string[];
  readonly tensors: InspectedTensor[];
}

const inspect = (path: string): Inspection => JSON.parse(runPython([INSPECT_PYTORCH_BIN, path])) as Inspection;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

/** What the reader must find for each tensor: the bytes of the tensor whose storage it uses, under that storage's key. */
interface Expected {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly storageKey: string;
  readonly bytes: Uint8Array;
}

/**
 * Checks an archive against what was written: records in torch's order, each stored and 64-aligned
 * (the inspector refuses the file otherwise), the state dict in order with every tensor's bytes,
 * and exactly one `data/<key>` record per storage, of the owner's bytes.
 */
function expectArchive(inspection: Inspection, expected: readonly Expected[]): void {
  const keys = [...new Set(expected.map((tensor) => tensor.storageKey))];
  expect(inspection.entries.map((entry) => entry.name)).toEqual([
    'archive/data.pkl',
    'archive/byteorder',
    ...keys.map((key) => `archive/data/${key}`),
    'archive/version',
  ]);
  for (const entry of inspection.entries) {
    expect(entry.compressed).toBe(false);
    expect(entry.dataOffset % 64).toBe(0);
  }
  expect(inspection.byteorder).toBe('little');
  expect(inspection.version).toBe('3\n');
  expect(inspection.storagesLoaded).toEqual(keys);
  for (const key of keys) {
    const owner = expected.find((tensor) => tensor.storageKey === key)!;
    const entry = inspection.entries.find((e) => e.name === `archive/data/${key}`)!;
    expect(entry.size).toBe(owner.bytes.length);
    expect(entry.sha256).toBe(sha256(owner.bytes));
  }
  expect(inspection.tensors).toEqual(
    expected.map((tensor) => ({
      name: tensor.name,
      dtype: tensor.dtype,
      shape: [...tensor.shape],
      stride: contiguousStrides(tensor.shape),
      storageKey: tensor.storageKey,
      sha256: sha256(tensor.bytes),
    })),
  );
}

describe('contiguousStrides', () => {
  it('matches torch: row-major, zero-sized dimensions counted as 1, () for a 0-d tensor', () => {
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([5])).toEqual([1]);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([2, 0, 3])).toEqual([3, 3, 1]);
    expect(contiguousStrides([0, 3])).toEqual([3, 1]);
  });
});

describe.skipIf(!hasPythonNumpy)(
  `writePytorchBin: read back with Python zipfile and a weights_only-style unpickler${hasPythonNumpy ? '' : ` (${SKIP_NO_PYTHON})`}`,
  () => {
    it('every dtype, 0-d, empty and tied tensors, eager and lazy data', async () => {
      const bf16Bits = Uint16Array.from([0x3f80, 0xbf80, 0x7fc0, 0x0001, 0xff80, 0x4049]); // 1, -1, NaN, tiny, -inf, 3.14
      const f16Bits = Uint16Array.from([0x4248]); // 3.14
      const embedding = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2);
      const lateOwner = Int32Array.from([7, -8, 9, 2 ** 31 - 1]);
      const tensors: PytorchTensorSource[] = [
        { name: 'weights.f32', dtype: 'F32', shape: [2, 3], data: bytesOf(Float32Array.from([1.5, -2, 0, 1e-8, 3e38, -0])) },
        { name: 'weights.f64', dtype: 'F64', shape: [4], data: () => bytesOf(Float64Array.from([Math.PI, -1e300, 5e-324, 0])) },
        { name: 'scalar.f16', dtype: 'F16', shape: [], data: bytesOf(f16Bits) },
        { name: 'raw.bf16', dtype: 'BF16', shape: [3, 2], data: async () => bytesOf(bf16Bits) },
        { name: 'ids.i64', dtype: 'I64', shape: [3], data: bytesOf(BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n])) },
        // Tied before its owner appears: the storage key is handed out here, at first use.
        { name: 'early.tied', dtype: 'I32', shape: [2, 2], tiedTo: 'late.owner' },
        { name: 'counts.i16', dtype: 'I16', shape: [5], data: bytesOf(Int16Array.from([-32768, 32767, 0, 1, -1])) },
        { name: 'signed.i8', dtype: 'I8', shape: [2, 2], data: bytesOf(Int8Array.from([-128, 127, 0, -1])) },
        { name: 'bytes.u8', dtype: 'U8', shape: [1, 1, 3], data: Uint8Array.from([0, 128, 255]) },
        { name: 'mask.bool', dtype: 'BOOL', shape: [5], data: Uint8Array.from([1, 0, 0, 1, 1]) },
        { name: 'empty.f32', dtype: 'F32', shape: [2, 0, 3] },
        { name: 'empty.given', dtype: 'I64', shape: [0], data: new Uint8Array(0) },
        { name: 'embeddings.weight', dtype: 'F32', shape: [4, 3], data: () => bytesOf(embedding) },
        { name: 'late.owner', dtype: 'I32', shape: [2, 2], data: bytesOf(lateOwner) },
        // Its own data is ignored: a tie has no bytes of its own.
        { name: 'decoder.weight', dtype: 'F32', shape: [4, 3], tiedTo: 'embeddings.weight', data: new Uint8Array(48).fill(0xee) },
        { name: 'chained.tie', dtype: 'F32', shape: [4, 3], tiedTo: 'decoder.weight' },
        { name: 'unicode.가중치.ü', dtype: 'U8', shape: [1], data: Uint8Array.from([9]) },
      ];
      const path = join(dir, 'dtypes.bin');
      await writePytorchBin(path, tensors);

      const bytesFor = async (tensor: PytorchTensorSource): Promise<Uint8Array> => {
        const { data } = tensor;
        return typeof data === 'function' ? await data() : (data ?? new Uint8Array(0));
      };
      const keys: Record<string, string> = {
        'weights.f32': '0',
        'weights.f64': '1',
        'scalar.f16': '2',
        'raw.bf16': '3',
        'ids.i64': '4',
        'early.tied': '5',
        'counts.i16': '6',
        'signed.i8': '7',
        'bytes.u8': '8',
        'mask.bool': '9',
        'empty.f32': '10',
        'empty.given': '11',
        'embeddings.weight': '12',
        'late.owner': '5',
        'decoder.weight': '12',
        'chained.tie': '12',
        'unicode.가중치.ü': '13',
      };
      const owners: Record<string, string> = { 'early.tied': 'late.owner', 'decoder.weight': 'embeddings.weight', 'chained.tie': 'embeddings.weight' };
      const expected: Expected[] = [];
      for (const tensor of tensors) {
        const owner = tensors.find((t) => t.name === (owners[tensor.name] ?? tensor.name))!;
        expected.push({ name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, storageKey: keys[tensor.name], bytes: await bytesFor(owner) });
      }
      const inspection = inspect(path);
      expectArchive(inspection, expected);
      // Keys are handed out in order of first use, so they run 0, 1, … with no gaps.
      expect(inspection.storagesLoaded).toEqual(Array.from({ length: 14 }, (_, i) => String(i)));
      expect(inspection.globals).toEqual([
        'collections.OrderedDict',
        'torch.BFloat16Storage',
        'torch.BoolStorage',
        'torch.ByteStorage',
        'torch.CharStorage',
        'torch.DoubleStorage',
        'torch.FloatStorage',
        'torch.HalfStorage',
        'torch.IntStorage',
        'torch.LongStorage',
        'torch.ShortStorage',
        'torch._utils._rebuild_tensor_v2',
      ]);
    });

    it('an empty state dict, a single tensor (SETITEM) and 2001 tensors (SETITEMS in batches of 1000, then SETITEM for the last)', async () => {
      const cases: Record<string, number> = { none: 0, one: 1, many: 2001 };
      for (const [label, count] of Object.entries(cases)) {
        const tensors: PytorchTensorSource[] = Array.from({ length: count }, (_, i) => ({
          name: `layer.${i}.bias`,
          dtype: 'U8',
          shape: [2],
          data: Uint8Array.from([i & 0xff, (i >> 8) & 0xff]),
        }));
        const path = join(dir, `count-${label}.bin`);
        await writePytorchBin(path, tensors, { fsync: false });
        const inspection = inspect(path);
        expectArchive(
          inspection,
          tensors.map((tensor, i) => ({ ...tensor, storageKey: String(i), bytes: tensor.data as Uint8Array })),
        );
        // Python's pickler writes a batch of one as SETITEM, larger ones as MARK … SETITEMS.
        expect([inspection.opcodes.includes('SETITEM'), inspection.opcodes.includes('SETITEMS')]).toEqual(
          { none: [false, false], one: [true, false], many: [true, true] }[label],
        );
      }
    });

    it('sizes and numels of every integer width: BININT1, BININT2, BININT and LONG1', () => {
      // The pickle alone (a 2^31-element storage cannot be written in a test), loaded by plain pickle.
      const shapes = [[255], [256, 65535], [65536, 2 ** 31 - 1], [2 ** 31], [2 ** 40, 3], [2 ** 53 - 1]];
      const pickle = stateDictPickle(
        shapes.map((shape, i) => ({
          name: `t${i}`,
          storageClass: 'ByteStorage',
          storageKey: String(i),
          storageNumel: shape.reduce((a, b) => a * b, 1),
          shape,
        })),
      );
      const script = [
        'import collections, json, pickle, pickletools, sys',
        'data = sys.stdin.buffer.read()',
        'pickletools.dis(data, out=open("/dev/null", "w"))',
        'class Loader(pickle.Unpickler):',
        '    def find_class(self, module, name):',
        '        if (module, name) == ("collections", "OrderedDict"): return collections.OrderedDict',
        '        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"): return lambda s, o, size, stride, g, h: [s, o, list(size), list(stride)]',
        '        if module == "torch" and name == "ByteStorage": return name',
        '        raise pickle.UnpicklingError(module + "." + name)',
        '    def persistent_load(self, pid): return list(pid)',
        'print(json.dumps([[k, v] for k, v in Loader(__import__("io").BytesIO(data)).load().items()]))',
      ].join('\n');
      const loaded = JSON.parse(runPython(['-c', script], pickle)) as [string, [unknown[], number, number[], number[]]][];
      expect(loaded).toEqual(
        shapes.map((shape, i) => [
          `t${i}`,
          [['storage', 'ByteStorage', String(i), 'cpu', shape.reduce((a, b) => a * b, 1)], 0, shape, contiguousStrides(shape)],
        ]),
      );
    });

    it.skipIf(!hasFixtures)(
      `golden-bigbird pretraining model: every real tensor plus the tied decoder weight${hasFixtures ? '' : ` (${SKIP_NO_FIXTURES})`}`,
      async () => {
        const file = await openSafetensors(fixture('golden-bigbird', 'pretraining_block_sparse_eval_s64', 'model.safetensors'));
        try {
          expect(file.tensors.has('cls.predictions.decoder.weight')).toBe(false); // save_pretrained drops tied weights
          const sources: PytorchTensorSource[] = [...file.tensors].map(([name, info]) => ({
            name,
            dtype: info.dtype,
            shape: info.shape,
            data: () => file.read(name),
          }));
          const embeddings = file.tensors.get('bert.embeddings.word_embeddings.weight')!;
          sources.push({
            name: 'cls.predictions.decoder.weight',
            dtype: embeddings.dtype,
            shape: embeddings.shape,
            tiedTo: 'bert.embeddings.word_embeddings.weight',
          });
          const path = join(dir, 'pytorch_model.bin');
          await writePytorchBin(path, sources);

          const expected: Expected[] = [];
          for (const [i, [name, info]] of [...file.tensors].entries()) {
            expected.push({ name, dtype: info.dtype, shape: info.shape, storageKey: String(i), bytes: await file.read(name) });
          }
          const tiedTarget = expected.find((tensor) => tensor.name === 'bert.embeddings.word_embeddings.weight')!;
          expected.push({ ...tiedTarget, name: 'cls.predictions.decoder.weight' });
          const inspection = inspect(path);
          expectArchive(inspection, expected);
          expect(inspection.storagesLoaded).toHaveLength(file.tensors.size); // no storage of its own for the tie
        } finally {
          await file.close();
        }
      },
    );
  },
);

describe('writePytorchBin: errors leave nothing behind', () => {
  /** A fresh folder per case, so "nothing left" means the folder is empty. */
  async function folder(name: string): Promise<string> {
    const path = join(dir, 'errors', name);
    await mkdir(path, { recursive: true });
    return path;
  }

  async function failure(path: string, tensors: PytorchTensorSource[]): Promise<PytorchBinError> {
    const error = await writePytorchBin(path, tensors).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PytorchBinError);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(join(path, '..'))).toEqual([]);
    return error as PytorchBinError;
  }

  /** An F32 tensor of zeros, unless `extra` says otherwise. */
  const f32 = (name: string, shape: number[], extra: Partial<PytorchTensorSource> = {}): PytorchTensorSource => ({
    name,
    dtype: 'F32',
    shape,
    ...('data' in extra ? {} : { data: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)) }),
    ...extra,
  });

  it('wrong byte length, found while writing: names the file and the tensor, removes the temporary file', async () => {
    const path = join(await folder('length'), 'pytorch_model.bin');
    const error = await failure(path, [f32('fine.first', [8]), f32('short.one', [2, 3], { data: () => new Uint8Array(23) }), f32('never.reached', [4])]);
    expect(error.file).toBe(path);
    expect(error.tensor).toBe('short.one');
    expect(error.message).toContain(path);
    expect(error.message).toContain('"short.one"');
    expect(error.message).toContain('data is 23 bytes, but F32 [2,3] needs 24');
  });

  it('missing data for a non-empty tensor', async () => {
    const path = join(await folder('missing'), 'pytorch_model.bin');
    const error = await failure(path, [f32('no.data', [3], { data: undefined })]);
    expect(error.message).toBe(`${path}: tensor "no.data": no data given for F32 [3] (12 bytes)`);
  });

  it('unknown tiedTo', async () => {
    const path = join(await folder('unknown-tie'), 'pytorch_model.bin');
    const error = await failure(path, [f32('a', [2]), f32('b', [2], { tiedTo: 'nowhere' })]);
    expect(error.message).toBe(`${path}: tensor "b": tiedTo "nowhere" names no tensor in the list`);
  });

  it('duplicate name', async () => {
    const path = join(await folder('duplicate'), 'pytorch_model.bin');
    const error = await failure(path, [f32('same', [2]), f32('other', [1]), f32('same', [2])]);
    expect(error.message).toBe(`${path}: tensor "same": the name is given twice`);
  });

  it('a tie of a different dtype or shape', async () => {
    const dtypePath = join(await folder('tie-dtype'), 'pytorch_model.bin');
    const dtypeError = await failure(dtypePath, [f32('a', [2]), { name: 'b', dtype: 'F16', shape: [2], tiedTo: 'a' }]);
    expect(dtypeError.message).toBe(`${dtypePath}: tensor "b": F16 [2] cannot share the storage of "a", which is F32 [2]`);
    const shapePath = join(await folder('tie-shape'), 'pytorch_model.bin');
    const shapeError = await failure(shapePath, [f32('a', [2, 3]), { name: 'b', dtype: 'F32', shape: [3, 2], tiedTo: 'a' }]);
    expect(shapeError.message).toBe(`${shapePath}: tensor "b": F32 [3,2] cannot share the storage of "a", which is F32 [2,3]`);
  });

  it('ties in a circle, and a bad dtype or shape', async () => {
    const circlePath = join(await folder('circle'), 'pytorch_model.bin');
    const circle = await failure(circlePath, [f32('a', [2], { tiedTo: 'b' }), f32('b', [2], { tiedTo: 'a' })]);
    expect(circle.message).toContain('tiedTo goes round in a circle');
    const dtypePath = join(await folder('dtype'), 'pytorch_model.bin');
    await failure(dtypePath, [{ name: 'x', dtype: 'F8' as never, shape: [1], data: new Uint8Array(1) }]);
    const shapePath = join(await folder('shape'), 'pytorch_model.bin');
    const shape = await failure(shapePath, [f32('x', [2, -1], { data: new Uint8Array(0) })]);
    expect(shape.message).toContain('shape [2,-1] is not a list of non-negative integers');
  });
});
