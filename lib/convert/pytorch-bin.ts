import { InputError } from '../fs/input-error.js';
import { writeFileStreamed } from '../fs/streamed-write.js';
import { sameShape } from '../tensor/shape.js';
import { AlignedZipWriter } from './aligned-zip-writer.js';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from './safetensors.js';
import { type PickledTensor, stateDictPickle } from './state-dict-pickle.js';

/** A tensor to write into a `pytorch_model.bin`. */
export interface PytorchTensorSource {
  /** State-dict key, e.g. `bert.embeddings.word_embeddings.weight`. */
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Raw little-endian C-order bytes, or a function fetching them when their turn comes. Not used when `tiedTo` is set. */
  readonly data?: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
  /**
   * Name of another tensor in the list whose storage this one shares (tied weights, like HF's
   * `decoder.weight` ≡ `word_embeddings.weight`): same storage key in the pickle, no bytes of its
   * own; dtype and shape must match.
   */
  readonly tiedTo?: string;
}

export interface PytorchBinWriteOptions {
  /** fsync the data before the rename (default true), so after a power loss the final name never holds a hole. */
  readonly fsync?: boolean;
}

/** A bad tensor list or tensor data, naming the file and (where there is one) the tensor. */
export class PytorchBinError extends InputError {
  constructor(
    override readonly file: string,
    readonly tensor: string | undefined,
    readonly problem: string,
  ) {
    super(file, `${file}: ${tensor === undefined ? '' : `tensor ${JSON.stringify(tensor)}: `}${problem}`);
    this.name = 'PytorchBinError';
  }
}

/** The legacy storage class `torch.save` pickles for each element type. */
const STORAGE_CLASSES: Readonly<Record<SafetensorsDtype, string>> = Object.freeze({
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
});

/**
 * The folder every record sits under. torch names it after the file when saving to a path and
 * `archive` when saving to a stream (as HF's files have); readers take whatever the first entry says.
 */
const ARCHIVE = 'archive';
/** PyTorchStreamWriter's kProducedFileFormatVersion for `torch.save` archives. */
const FORMAT_VERSION = '3\n';

interface StorageToWrite {
  readonly key: string;
  /** The tensor whose data fills the storage. */
  readonly owner: PytorchTensorSource;
  readonly byteLength: number;
}

interface Plan {
  readonly pickled: readonly PickledTensor[];
  readonly storages: readonly StorageToWrite[];
}

const isDtype = (value: unknown): value is SafetensorsDtype => typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, value);

/** Checks the list and decides the storages, all before any file is opened. */
function planArchive(path: string, tensors: readonly PytorchTensorSource[]): Plan {
  const byName = new Map<string, PytorchTensorSource>();
  const numels = new Map<PytorchTensorSource, number>();
  for (const tensor of tensors) {
    const { name, dtype, shape } = tensor;
    if (typeof name !== 'string') throw new PytorchBinError(path, undefined, `a tensor name is ${JSON.stringify(name)}, not a string`);
    // A lone surrogate would silently become U+FFFD in the UTF-8 pickle, and load under another name.
    if (new TextDecoder().decode(new TextEncoder().encode(name)) !== name)
      throw new PytorchBinError(path, name, 'the name is not valid Unicode (it holds a lone surrogate)');
    if (byName.has(name)) throw new PytorchBinError(path, name, 'the name is given twice');
    byName.set(name, tensor);
    if (!isDtype(dtype))
      throw new PytorchBinError(path, name, `dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`);
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
      throw new PytorchBinError(path, name, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const numel = shape.reduce((product, dim) => product * dim, 1);
    if (!Number.isSafeInteger(numel * SAFETENSORS_DTYPE_BYTES[dtype])) throw new PytorchBinError(path, name, `shape ${JSON.stringify(shape)} is too large`);
    numels.set(tensor, numel);
  }

  // Every tie is checked against its own target, so along a chain all share dtype and shape.
  for (const tensor of tensors) {
    if (tensor.tiedTo === undefined) continue;
    const target = byName.get(tensor.tiedTo);
    if (target === undefined) throw new PytorchBinError(path, tensor.name, `tiedTo ${JSON.stringify(tensor.tiedTo)} names no tensor in the list`);
    if (target.dtype !== tensor.dtype || !sameShape(target.shape, tensor.shape)) {
      throw new PytorchBinError(
        path,
        tensor.name,
        `${tensor.dtype} ${JSON.stringify(tensor.shape)} cannot share the storage of ${JSON.stringify(target.name)}, which is ${target.dtype} ${JSON.stringify(target.shape)}`,
      );
    }
  }
  const owner = (tensor: PytorchTensorSource): PytorchTensorSource => {
    const seen = new Set<PytorchTensorSource>();
    let current = tensor;
    while (current.tiedTo !== undefined) {
      if (seen.has(current)) throw new PytorchBinError(path, tensor.name, 'tiedTo goes round in a circle, so no tensor in it has data of its own');
      seen.add(current);
      current = byName.get(current.tiedTo)!;
    }
    return current;
  };

  // Keys in order of first use, as torch's persistent_id hands them out.
  const keys = new Map<PytorchTensorSource, string>();
  const storages: StorageToWrite[] = [];
  const pickled = tensors.map((tensor): PickledTensor => {
    const root = owner(tensor);
    let key = keys.get(root);
    if (key === undefined) {
      key = String(keys.size);
      keys.set(root, key);
      storages.push({ key, owner: root, byteLength: numels.get(root)! * SAFETENSORS_DTYPE_BYTES[root.dtype] });
    }
    return { name: tensor.name, storageClass: STORAGE_CLASSES[tensor.dtype], storageKey: key, storageNumel: numels.get(root)!, shape: tensor.shape };
  });
  return { pickled, storages };
}

async function storageBytes(path: string, { owner, byteLength }: StorageToWrite): Promise<Uint8Array> {
  const { name, dtype, shape, data } = owner;
  if (data === undefined && byteLength !== 0)
    throw new PytorchBinError(path, name, `no data given for ${dtype} ${JSON.stringify(shape)} (${byteLength} bytes)`);
  const bytes = typeof data === 'function' ? await data() : (data ?? new Uint8Array(0));
  if (!(bytes instanceof Uint8Array)) throw new PytorchBinError(path, name, 'data is not a Uint8Array');
  if (bytes.byteLength !== byteLength)
    throw new PytorchBinError(path, name, `data is ${bytes.byteLength} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${byteLength}`);
  return bytes;
}

/**
 * Writes a `pytorch_model.bin` as `torch.save(state_dict, f)` does (the zip format of torch ≥ 1.6),
 * which `torch.load(path, weights_only=True)` and `torch.load(path, mmap=True)` read: records
 * `data.pkl`, `byteorder`, `data/0`, `data/1`, … (one per storage, keys in order of first use),
 * `version`, each stored uncompressed with its data on a 64-byte boundary; ZIP64 where the archive
 * passes 4 GiB. The pickle needs only names and shapes, so it goes first; each storage's data is
 * then fetched only when its turn comes, so at most one tensor is in memory. The file (local or
 * `gs://`) appears under `path` only when complete (a hidden temporary name renamed, or an upload
 * finalized whole), so an error never leaves a half-written file under `path`.
 */
export async function writePytorchBin(path: string, tensors: Iterable<PytorchTensorSource>, options: PytorchBinWriteOptions = {}): Promise<void> {
  const { pickled, storages } = planArchive(path, [...tensors]);
  await writeFileStreamed(
    path,
    async (sink) => {
      const zip = new AlignedZipWriter(sink);
      await zip.add(`${ARCHIVE}/data.pkl`, stateDictPickle(pickled));
      // The data is little-endian by contract, whatever machine writes it.
      await zip.add(`${ARCHIVE}/byteorder`, new TextEncoder().encode('little'));
      for (const storage of storages) await zip.add(`${ARCHIVE}/data/${storage.key}`, await storageBytes(path, storage));
      await zip.add(`${ARCHIVE}/version`, new TextEncoder().encode(FORMAT_VERSION));
      await zip.finish();
    },
    { fsync: options.fsync },
  );
}
