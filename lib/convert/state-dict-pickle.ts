/**
 * The `data.pkl` of a `torch.save(state_dict)` archive, written opcode by opcode. Only opcodes and
 * globals that torch's `weights_only` unpickler accepts appear (protocol 2, no SHORT_BINUNICODE or
 * other protocol-4 forms), so `torch.load(path, weights_only=True)` reads the result.
 */

/** One state-dict entry: a tensor viewing the whole of a storage from offset 0, C-contiguous. */
export interface PickledTensor {
  readonly name: string;
  /** The legacy storage class torch pickles, e.g. `FloatStorage`. */
  readonly storageClass: string;
  /** The storage's record name under `data/`; tensors sharing a storage share the key. */
  readonly storageKey: string;
  /** Elements in the storage (not bytes). */
  readonly storageNumel: number;
  readonly shape: readonly number[];
}

const PROTO = 0x80;
const GLOBAL = 0x63; // c
const EMPTY_TUPLE = 0x29; // )
const REDUCE = 0x52; // R
const MARK = 0x28; // (
const BINUNICODE = 0x58; // X
const BININT1 = 0x4b; // K
const BININT2 = 0x4d; // M
const BININT = 0x4a; // J
const LONG1 = 0x8a;
const TUPLE = 0x74; // t
const TUPLE1 = 0x85;
const TUPLE2 = 0x86;
const TUPLE3 = 0x87;
const BINPERSID = 0x51; // Q
const NEWFALSE = 0x89;
const SETITEM = 0x73; // s
const SETITEMS = 0x75; // u
const BINPUT = 0x71; // q
const LONG_BINPUT = 0x72; // r
const BINGET = 0x68; // h
const LONG_BINGET = 0x6a; // j
const STOP = 0x2e; // .

/** What Python's pickler puts between one MARK and its SETITEMS at most. */
const SETITEMS_BATCH = 1000;

/** Contiguous strides as torch computes them: a zero-sized dimension counts as 1, so shape [2, 0, 3] gives [3, 3, 1]. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= Math.max(shape[i], 1);
  }
  return strides;
}

class PickleBytes {
  private readonly bytes: number[] = [];
  private readonly memo = new Map<string, number>();
  private readonly encoder = new TextEncoder();

  op(code: number): void {
    this.bytes.push(code);
  }

  private le(value: number, width: number): void {
    for (let i = 0; i < width; i++) this.bytes.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  }

  /** A module-level name; memoised, as Python's pickler does, so each costs its text only once. */
  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const index = this.memo.get(key);
    if (index !== undefined) {
      this.op(index < 256 ? BINGET : LONG_BINGET);
      this.le(index, index < 256 ? 1 : 4);
      return;
    }
    this.op(GLOBAL);
    for (const byte of this.encoder.encode(key)) this.bytes.push(byte);
    const fresh = this.memo.size;
    this.memo.set(key, fresh);
    this.op(fresh < 256 ? BINPUT : LONG_BINPUT);
    this.le(fresh, fresh < 256 ? 1 : 4);
  }

  text(value: string): void {
    const utf8 = this.encoder.encode(value);
    this.op(BINUNICODE);
    this.le(utf8.length, 4);
    for (const byte of utf8) this.bytes.push(byte);
  }

  /** A non-negative integer in the shortest form Python's pickler picks for it. */
  int(value: number): void {
    if (value < 0x100) {
      this.op(BININT1);
      this.le(value, 1);
    } else if (value < 0x1_0000) {
      this.op(BININT2);
      this.le(value, 2);
    } else if (value < 0x8000_0000) {
      this.op(BININT); // signed, hence the limit of 2^31
      this.le(value, 4);
    } else {
      // Two's complement, little-endian, one byte more than the bits need (pickle.encode_long), so the top bit is clear.
      const length = (BigInt(value).toString(2).length >> 3) + 1;
      this.op(LONG1);
      this.le(length, 1);
      this.le(value, length);
    }
  }

  /** A tuple of items each written by `write`, with the opcodes Python's pickler uses for its length. */
  tuple<T>(items: readonly T[], write: (item: T) => void): void {
    if (items.length === 0) {
      this.op(EMPTY_TUPLE);
      return;
    }
    if (items.length > 3) this.op(MARK);
    for (const item of items) write(item);
    this.op(items.length > 3 ? TUPLE : [TUPLE1, TUPLE2, TUPLE3][items.length - 1]);
  }

  emptyOrderedDict(): void {
    this.global('collections', 'OrderedDict');
    this.op(EMPTY_TUPLE);
    this.op(REDUCE);
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/**
 * Pickles `OrderedDict(name → torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False,
 * OrderedDict()))`, where each storage is the persistent id `('storage', torch.<Class>, key,
 * 'cpu', numel)`: what `torch.save` writes for a state dict of contiguous CPU tensors.
 */
export function stateDictPickle(tensors: readonly PickledTensor[]): Uint8Array {
  const out = new PickleBytes();
  out.op(PROTO);
  out.op(2);
  out.emptyOrderedDict();
  for (let start = 0; start < tensors.length; start += SETITEMS_BATCH) {
    const batch = tensors.slice(start, start + SETITEMS_BATCH);
    if (batch.length > 1) out.op(MARK);
    for (const tensor of batch) {
      out.text(tensor.name);
      out.global('torch._utils', '_rebuild_tensor_v2');
      out.op(MARK);
      out.op(MARK);
      out.text('storage');
      out.global('torch', tensor.storageClass);
      out.text(tensor.storageKey);
      out.text('cpu');
      out.int(tensor.storageNumel);
      out.op(TUPLE);
      out.op(BINPERSID);
      out.int(0); // storage offset
      out.tuple(tensor.shape, (dim) => out.int(dim));
      out.tuple(contiguousStrides(tensor.shape), (stride) => out.int(stride));
      out.op(NEWFALSE); // requires_grad
      out.emptyOrderedDict(); // backward hooks
      out.op(TUPLE);
      out.op(REDUCE);
    }
    out.op(batch.length > 1 ? SETITEMS : SETITEM);
  }
  out.op(STOP);
  return out.done();
}
