import {
  backend_util,
  broadcast_util,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { OnnxGraph, OnnxNode } from './onnx-graph.js';
import type { OnnxInput, OnnxSessions } from './onnx-runtime.js';
import { scatterAddRows } from './scatter-add.js';

/**
 * The kernels of the `native` backend: the products, the elementwise arithmetic, softmax, reductions,
 * the copies (transpose, slice, concat, split, pad) and kbb's fused gelu_new in ONNX Runtime; whole-row
 * gathers and scatters in JavaScript loops over the arrays. Each one takes float32 tensors only and
 * gives way to the cpu backend's JavaScript kernel for anything else (int and bool tensors, empty
 * ones, batched gathers) and for small tensors: those are cheap there, and the cpu kernels are the
 * reference these are tested against.
 *
 * Sums and means accumulate in float64, as the cpu backend's JavaScript does: a softmax's normaliser
 * over 32,500 classes summed in float32 one class after another drifts by 2e-6 (the wasm backend's
 * loss error).
 */

/** What a native kernel needs from its backend: the cpu backend's tensor store, and the sessions. */
export interface NativeKernelBackend {
  readonly sessions: OnnxSessions;
  readonly data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo;
  /** A float32 array of `length` for a kernel's output, recycled where one is free. */
  allocate(length: number): Float32Array;
  /** Hands back an array from `allocate` that no tensor holds. */
  recycle(array: Float32Array): void;
  /** Marks a tensor's array as seen outside the backend's kernels, so it is never reused. */
  release(dataId: object): void;
  /** Kernels (products and gathers aside) whose inputs are all smaller than this run the cpu kernel. */
  readonly minNativeElements: number;
}

type NativeKernel = (inputs: TensorInfo[], backend: NativeKernelBackend, attrs: NamedAttrMap) => TensorInfo | TensorInfo[] | undefined;

interface NativeKernelSpec {
  /** The tensor inputs, in the order the graph takes them. */
  readonly inputNames: readonly string[];
  /** Runs in ONNX Runtime, or answers undefined to hand the call to the cpu kernel. */
  readonly run: NativeKernel;
}

function values(backend: NativeKernelBackend, tensor: TensorInfo): Float32Array {
  const stored = backend.data.get(tensor.dataId).values;
  // A few cpu kernels store a float32 result in another typed array (a cast from bool keeps its bytes).
  return stored instanceof Float32Array ? stored : Float32Array.from(stored as ArrayLike<number>);
}

function floatInput(backend: NativeKernelBackend, tensor: TensorInfo): OnnxInput {
  return { type: 'float32', shape: tensor.shape, data: values(backend, tensor) };
}

function int64Input(items: readonly number[]): OnnxInput {
  return { type: 'int64', shape: [items.length], data: BigInt64Array.from(items, (item) => BigInt(item)) };
}

function allFloat(inputs: readonly TensorInfo[]): boolean {
  return inputs.every((input) => input.dtype === 'float32' && util.sizeFromShape(input.shape) > 0);
}

/** Kernels whose output can be far larger than their inputs: never handed to the cpu kernel for small inputs. */
const LARGE_FROM_SMALL = new Set(['BatchMatMul', 'GatherV2']);

/** Gathered rows at least this long are copied in JavaScript (see GatherV2). */
const MIN_COPIED_SLICE = 32;

const float = (name: string, rank: number) => ({ name, type: 'float32' as const, rank });
const int64 = (name: string, rank = 1) => ({ name, type: 'int64' as const, rank });

/** A graph of one or more nodes from float inputs x0… to one float output y. */
function graph(nodes: readonly OnnxNode[], inputs: OnnxGraph['inputs'], outputRank: number): OnnxGraph {
  return { nodes, inputs, outputs: [float('y', outputRank)] };
}

/**
 * Runs graph `key` with one float output of `shape` (`onnxShape` where ONNX's differs, as a reduction's
 * kept dimensions) into a recycled array.
 */
function runOne(backend: NativeKernelBackend, key: string, build: () => OnnxGraph, inputs: OnnxInput[], shape: number[], onnxShape = shape): TensorInfo {
  const data = backend.allocate(util.sizeFromShape(shape));
  backend.sessions.run(key, build, inputs, [{ type: 'float32', shape: onnxShape, data }]);
  return backend.makeTensorInfo(shape, 'float32', data);
}

function elementwise(arity: 'unary' | 'binary', nodes: (x: string[]) => OnnxNode[]): NativeKernelSpec {
  return {
    inputNames: arity === 'unary' ? ['x'] : ['a', 'b'],
    run: (inputs, backend) => {
      if (!allFloat(inputs)) return undefined;
      const ranks = inputs.map((input) => input.shape.length);
      const names = inputs.map((_, i) => `x${i}`);
      const shape =
        inputs.length === 1
          ? [...(inputs[0] as TensorInfo).shape]
          : broadcast_util.assertAndGetBroadcastShape((inputs[0] as TensorInfo).shape, (inputs[1] as TensorInfo).shape);
      return runOne(
        backend,
        `${nodes(names)
          .map((node) => node.op)
          .join('+')}/${ranks.join(',')}`,
        () =>
          graph(
            nodes(names),
            names.map((name, i) => float(name, ranks[i] as number)),
            shape.length,
          ),
        inputs.map((input) => floatInput(backend, input)),
        shape,
      );
    },
  };
}

const unary = (op: string): NativeKernelSpec => elementwise('unary', ([x]) => [{ op, inputs: [x as string], outputs: ['y'] }]);
const binary = (op: string): NativeKernelSpec => elementwise('binary', ([a, b]) => [{ op, inputs: [a as string, b as string], outputs: ['y'] }]);

function reduction(op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin', axisAttr: string): NativeKernelSpec {
  return {
    inputNames: ['x'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      if (!allFloat(inputs) || x.shape.length === 0) return undefined;
      const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
      const keepDims = attrs.keepDims as boolean;
      const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
      const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const rank = x.shape.length;
      const nodes: OnnxNode[] =
        op === 'ReduceSum' || op === 'ReduceMean'
          ? reduceInDouble(op, 'x', 'axes', 'y')
          : [{ op, inputs: ['x', 'axes'], outputs: ['y'], attributes: { keepdims: { int: 1 } } }];
      return runOne(
        backend,
        `${op}/${rank}`,
        () => graph(nodes, [float('x', rank), int64('axes')], rank),
        [floatInput(backend, x), int64Input(axes)],
        shape,
        keptShape,
      );
    },
  };
}

/**
 * `op` of float32 `input` over the axes named by input `axes`, in float64 and rounded once to the
 * float32 `output`, as the Sum and Mean kernels reduce.
 */
function reduceInDouble(op: 'ReduceSum' | 'ReduceMean', input: string, axes: string, output: string, keepdims = 1): OnnxNode[] {
  return [
    { op: 'Cast', inputs: [input], outputs: [`${input}64`], attributes: { to: { int: 11 } } },
    { op, inputs: [`${input}64`, axes], outputs: [`${output}64`], attributes: { keepdims: { int: keepdims } } },
    { op: 'Cast', inputs: [`${output}64`], outputs: [output], attributes: { to: { int: 1 } } },
  ];
}

/**
 * Softmax's gradient over the last axis, p − Σp·y with p = dy·y (inputs dy, y) or p = dy·dropped (inputs
 * dy, dropped, y: dropout's multiplier is in dropped = m·y, so dy·dropped is the dropped gradient's
 * (m·dy)·y up to rounding).
 */
function softmaxGradient(inputNames: readonly ['dy', 'y'] | readonly ['dy', 'dropped', 'y']): NativeKernelSpec {
  return {
    inputNames,
    run: (inputs, backend) => {
      const y = inputs[inputs.length - 1] as TensorInfo;
      if (!allFloat(inputs) || inputs.some((input) => input.shape.join() !== y.shape.join()) || y.shape.length === 0) return undefined;
      const rank = y.shape.length;
      const nodes: OnnxNode[] = [
        { op: 'Mul', inputs: [inputNames[0], inputNames[1]], outputs: ['p'] },
        ...reduceInDouble('ReduceSum', 'p', 'axes', 's'),
        { op: 'Mul', inputs: ['s', 'y'], outputs: ['t'] },
        { op: 'Sub', inputs: ['p', 't'], outputs: ['y_out'] },
      ];
      return runOne(
        backend,
        `SoftmaxGrad/${inputNames.length}/${rank}`,
        () => ({ nodes, inputs: [...inputNames.map((name) => float(name, rank)), int64('axes')], outputs: [float('y_out', rank)] }),
        [...inputs.map((input) => floatInput(backend, input)), int64Input([rank - 1])],
        [...y.shape],
      );
    },
  };
}

/**
 * LayerNorm's row statistics over the last axis as the model's op chain computes them on this backend
 * (nn.ts `layerNorm`: tf.moments, then x − mean times rsqrt(variance + eps)): the means in float64 as
 * the Mean kernel's, the reciprocal square root in float64 as the cpu kernel's `1 / Math.sqrt(v)` (the
 * [rows, 1] variance is below `minNativeElements` at the model's sizes). Inputs x, eps, last; outputs d =
 * x − mean, r = rsqrt(variance + eps), xhat = d·r.
 */
function layerNormStatistics(): OnnxNode[] {
  return [
    ...reduceInDouble('ReduceMean', 'x', 'last', 'mean'),
    { op: 'Sub', inputs: ['x', 'mean'], outputs: ['d'] },
    { op: 'Mul', inputs: ['d', 'd'], outputs: ['d2'] },
    ...reduceInDouble('ReduceMean', 'd2', 'last', 'variance'),
    { op: 'Add', inputs: ['variance', 'eps'], outputs: ['shifted'] },
    { op: 'Cast', inputs: ['shifted'], outputs: ['shifted64'], attributes: { to: { int: 11 } } },
    { op: 'Sqrt', inputs: ['shifted64'], outputs: ['root64'] },
    { op: 'Reciprocal', inputs: ['root64'], outputs: ['r64'] },
    { op: 'Cast', inputs: ['r64'], outputs: ['r'], attributes: { to: { int: 1 } } },
    { op: 'Mul', inputs: ['d', 'r'], outputs: ['xhat'] },
  ];
}

/** A float32 scalar input (LayerNorm's epsilon, rounded as the chain's scalar tensor is). */
function floatScalar(value: number): OnnxInput {
  return { type: 'float32', shape: [], data: Float32Array.of(value) };
}

const KERNELS: Readonly<Record<string, NativeKernelSpec>> = {
  Add: binary('Add'),
  Sub: binary('Sub'),
  Multiply: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  SquaredDifference: elementwise('binary', ([a, b]) => [
    { op: 'Sub', inputs: [a as string, b as string], outputs: ['d'] },
    { op: 'Mul', inputs: ['d', 'd'], outputs: ['y'] },
  ]),
  Sqrt: unary('Sqrt'),
  Rsqrt: elementwise('unary', ([x]) => [
    { op: 'Sqrt', inputs: [x as string], outputs: ['s'] },
    { op: 'Reciprocal', inputs: ['s'], outputs: ['y'] },
  ]),
  Square: elementwise('unary', ([x]) => [{ op: 'Mul', inputs: [x as string, x as string], outputs: ['y'] }]),
  Tanh: unary('Tanh'),
  Exp: unary('Exp'),
  Log: unary('Log'),
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Floor: unary('Floor'),
  Reciprocal: unary('Reciprocal'),
  Sigmoid: unary('Sigmoid'),
  Relu: unary('Relu'),
  Erf: unary('Erf'),
  Sum: reduction('ReduceSum', 'axis'),
  Mean: reduction('ReduceMean', 'axis'),
  Max: reduction('ReduceMax', 'reductionIndices'),
  Min: reduction('ReduceMin', 'axis'),
  // Softmax's gradient dy·y − Σ(dy·y)·y over the last axis in one graph (lib/backend/fused-softmax-grad.ts):
  // the nodes the op chain runs, the sum in float64 as the Sum kernel's, so the chain's bits.
  KbbSoftmaxGrad: softmaxGradient(['dy', 'y']),
  // The gradient of dropout(softmax(x)) from the dropped probabilities (lib/backend/fused-softmax-dropout.ts):
  // dy·dropped − Σ(dy·dropped)·y, the graph above with dy·dropped for dy·y.
  KbbDroppedSoftmaxGrad: softmaxGradient(['dy', 'dropped', 'y']),
  // LayerNorm over the last axis and its gradient (lib/backend/fused-layer-norm.ts), each one graph.
  KbbLayerNorm: {
    inputNames: ['x', 'gamma', 'beta'],
    run: (inputs, backend, attrs) => {
      const [x, gamma, beta] = inputs as [TensorInfo, TensorInfo, TensorInfo];
      if (!allFloat(inputs) || x.shape.length === 0) return undefined;
      const rank = x.shape.length;
      return runOne(
        backend,
        `LayerNorm/${rank}`,
        () =>
          graph(
            [
              ...layerNormStatistics(),
              { op: 'Mul', inputs: ['xhat', 'gamma'], outputs: ['scaled'] },
              { op: 'Add', inputs: ['scaled', 'beta'], outputs: ['y'] },
            ],
            [float('x', rank), float('gamma', 1), float('beta', 1), float('eps', 0), int64('last')],
            rank,
          ),
        [floatInput(backend, x), floatInput(backend, gamma), floatInput(backend, beta), floatScalar(attrs.eps as number), int64Input([-1])],
        [...x.shape],
      );
    },
  },
  // dx = r·(g − mean(g) − xhat·mean(g·xhat)) with g = dy·gamma; dgamma = Σ dy·xhat and dbeta = Σ dy over
  // the rows. Means and sums in float64.
  KbbLayerNormGrad: {
    inputNames: ['dy', 'x', 'gamma'],
    run: (inputs, backend, attrs) => {
      const [dy, x, gamma] = inputs as [TensorInfo, TensorInfo, TensorInfo];
      if (!allFloat(inputs) || x.shape.length === 0 || dy.shape.join() !== x.shape.join()) return undefined;
      const rank = x.shape.length;
      const width = x.shape[rank - 1] as number;
      const nodes: OnnxNode[] = [
        ...layerNormStatistics(),
        ...reduceInDouble('ReduceSum', 'dy', 'rows', 'dbeta', 0),
        { op: 'Mul', inputs: ['dy', 'xhat'], outputs: ['dyx'] },
        ...reduceInDouble('ReduceSum', 'dyx', 'rows', 'dgamma', 0),
        { op: 'Mul', inputs: ['dy', 'gamma'], outputs: ['g'] },
        ...reduceInDouble('ReduceMean', 'g', 'last', 'a'),
        { op: 'Mul', inputs: ['g', 'xhat'], outputs: ['gx'] },
        ...reduceInDouble('ReduceMean', 'gx', 'last', 'b'),
        { op: 'Sub', inputs: ['g', 'a'], outputs: ['centered'] },
        { op: 'Mul', inputs: ['xhat', 'b'], outputs: ['projection'] },
        { op: 'Sub', inputs: ['centered', 'projection'], outputs: ['inner'] },
        { op: 'Mul', inputs: ['inner', 'r'], outputs: ['dx'] },
      ];
      const dx = backend.allocate(util.sizeFromShape(x.shape));
      const dgamma = backend.allocate(width);
      const dbeta = backend.allocate(width);
      backend.sessions.run(
        `LayerNormGrad/${rank}`,
        () => ({
          nodes,
          inputs: [float('dy', rank), float('x', rank), float('gamma', 1), float('eps', 0), int64('last'), int64('rows')],
          outputs: [float('dx', rank), float('dgamma', 1), float('dbeta', 1)],
        }),
        [
          floatInput(backend, dy),
          floatInput(backend, x),
          floatInput(backend, gamma),
          floatScalar(attrs.eps as number),
          int64Input([-1]),
          int64Input(Array.from({ length: rank - 1 }, (_, axis) => axis)),
        ],
        [
          { type: 'float32', shape: x.shape, data: dx },
          { type: 'float32', shape: [width], data: dgamma },
          { type: 'float32', shape: [width], data: dbeta },
        ],
      );
      return [
        backend.makeTensorInfo([...x.shape], 'float32', dx),
        backend.makeTensorInfo([width], 'float32', dgamma),
        backend.makeTensorInfo([width], 'float32', dbeta),
      ];
    },
  },
  // gelu_new (lib/backend/fused-gelu.ts): ONNX Runtime's FastGelu is exactly its tanh form.
  KbbGeluNew: elementwise('unary', ([x]) => [{ op: 'FastGelu', domain: 'com.microsoft', inputs: [x as string], outputs: ['y'] }]),
  // dy · ½(1 + t + x(1 − t²)·c(1 + 3a·x²)), t = tanh(c·x(1 + a·x²)), c = √(2/π), a = 0.044715.
  KbbGeluNewGrad: {
    inputNames: ['dy', 'x'],
    run: (inputs, backend) => {
      const [dy, x] = inputs as [TensorInfo, TensorInfo];
      if (!allFloat(inputs) || dy.shape.join() !== x.shape.join()) return undefined;
      const rank = x.shape.length;
      const c = Math.sqrt(2 / Math.PI);
      const a = 0.044715;
      const constant = (name: string, value: number): OnnxNode => ({
        op: 'Constant',
        inputs: [],
        outputs: [name],
        attributes: { value_float: { float: value } },
      });
      const op = (type: string, inputs: string[], output: string): OnnxNode => ({ op: type, inputs, outputs: [output] });
      return runOne(
        backend,
        `GeluNewGrad/${rank}`,
        () =>
          graph(
            [
              constant('c', c),
              constant('ca', c * a),
              constant('c3a', 3 * c * a),
              constant('one', 1),
              constant('half', 0.5),
              op('Mul', ['x', 'x'], 'x2'),
              op('Mul', ['x2', 'ca'], 'p'),
              op('Add', ['p', 'c'], 'q'),
              op('Mul', ['x', 'q'], 'inner'),
              op('Tanh', ['inner'], 't'),
              op('Mul', ['x2', 'c3a'], 'r'),
              op('Add', ['r', 'c'], 'dinner'),
              op('Mul', ['t', 't'], 'tt'),
              op('Sub', ['one', 'tt'], 'sech2'),
              op('Mul', ['sech2', 'dinner'], 'u'),
              op('Mul', ['u', 'x'], 'v'),
              op('Add', ['v', 't'], 'w'),
              op('Add', ['w', 'one'], 'z'),
              op('Mul', ['z', 'half'], 'derivative'),
              op('Mul', ['dy', 'derivative'], 'y'),
            ],
            [float('dy', rank), float('x', rank)],
            rank,
          ),
        [floatInput(backend, dy), floatInput(backend, x)],
        [...x.shape],
      );
    },
  },
  Softmax: {
    inputNames: ['logits'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      const rank = x.shape.length;
      const dim = attrs.dim as number;
      if (!allFloat(inputs) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return undefined;
      return runOne(
        backend,
        `Softmax/${rank}`,
        () => graph([{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: { axis: { int: -1 } } }], [float('x', rank)], rank),
        [floatInput(backend, x)],
        [...x.shape],
      );
    },
  },
  BatchMatMul: {
    inputNames: ['a', 'b'],
    run: (inputs, backend, attrs) => {
      const [a, b] = inputs as [TensorInfo, TensorInfo];
      if (!allFloat(inputs)) return undefined;
      const transA = attrs.transposeA ? 1 : 0;
      const transB = attrs.transposeB ? 1 : 0;
      const [ra, rb] = [a.shape.length, b.shape.length];
      const m = a.shape[transA ? ra - 1 : ra - 2] as number;
      const n = b.shape[transB ? rb - 2 : rb - 1] as number;
      const batch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      // Batch dimensions both sides share are flattened into one (rank-5 attention blocks ran at two
      // thirds of the rank-3 speed), and a batch against one shared matrix is a single product.
      const aBatch = a.shape.slice(0, -2);
      const bBatch = b.shape.slice(0, -2);
      const aMatrix = a.shape.slice(-2);
      const bMatrix = b.shape.slice(-2);
      const shape = [...batch, m, n];
      let aShape = [...a.shape];
      let bShape = [...b.shape];
      let onnxShape = shape;
      if (aBatch.length > 0 && util.sizeFromShape(bBatch) === 1 && !transA) {
        aShape = [util.sizeFromShape(aBatch) * m, aMatrix[1] as number];
        bShape = bMatrix;
        onnxShape = [util.sizeFromShape(aBatch) * m, n];
      } else if (aBatch.length > 1 && aBatch.join() === bBatch.join()) {
        aShape = [util.sizeFromShape(aBatch), ...aMatrix];
        bShape = [util.sizeFromShape(bBatch), ...bMatrix];
        onnxShape = [util.sizeFromShape(aBatch), m, n];
      }
      const [ra2, rb2] = [aShape.length, bShape.length];
      return runOne(
        backend,
        `FusedMatMul/${transA}${transB}/${ra2},${rb2}`,
        () =>
          graph(
            [
              {
                op: 'FusedMatMul',
                domain: 'com.microsoft',
                inputs: ['a', 'b'],
                outputs: ['y'],
                attributes: { transA: { int: transA }, transB: { int: transB }, alpha: { float: 1 } },
              },
            ],
            [float('a', ra2), float('b', rb2)],
            Math.max(ra2, rb2),
          ),
        [
          { type: 'float32', shape: aShape, data: values(backend, a) },
          { type: 'float32', shape: bShape, data: values(backend, b) },
        ],
        shape,
        onnxShape,
      );
    },
  },
  Transpose: {
    inputNames: ['x'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      if (!allFloat(inputs)) return undefined;
      const perm = attrs.perm as number[];
      return runOne(
        backend,
        `Transpose/${perm.join(',')}`,
        () => graph([{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: { perm: { ints: perm } } }], [float('x', perm.length)], perm.length),
        [floatInput(backend, x)],
        perm.map((axis) => x.shape[axis] as number),
      );
    },
  },
  Slice: {
    inputNames: ['x'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      if (!allFloat(inputs) || x.shape.length === 0) return undefined;
      const [begin, size] = slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]) as [number[], number[]];
      if (util.sizeFromShape(size) === 0) return undefined;
      const rank = x.shape.length;
      return runOne(
        backend,
        `Slice/${rank}`,
        () => graph([{ op: 'Slice', inputs: ['x', 'starts', 'ends'], outputs: ['y'] }], [float('x', rank), int64('starts'), int64('ends')], rank),
        [floatInput(backend, x), int64Input(begin), int64Input(begin.map((b, i) => b + (size[i] as number)))],
        size,
      );
    },
  },
  Concat: {
    inputNames: [],
    run: (inputs, backend, attrs) => {
      if (!allFloat(inputs) || inputs.length < 2) return undefined;
      const rank = (inputs[0] as TensorInfo).shape.length;
      if (rank === 0) return undefined;
      const axis = util.parseAxisParam(attrs.axis as number, (inputs[0] as TensorInfo).shape)[0] as number;
      const names = inputs.map((_, i) => `x${i}`);
      return runOne(
        backend,
        `Concat/${inputs.length}/${axis}/${rank}`,
        () =>
          graph(
            [{ op: 'Concat', inputs: names, outputs: ['y'], attributes: { axis: { int: axis } } }],
            names.map((name) => float(name, rank)),
            rank,
          ),
        inputs.map((input) => floatInput(backend, input)),
        (inputs[0] as TensorInfo).shape.map((d, i) => (i === axis ? inputs.reduce((sum, input) => sum + (input.shape[i] as number), 0) : d)),
      );
    },
  },
  SplitV: {
    inputNames: ['x'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      if (!allFloat(inputs)) return undefined;
      const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0] as number;
      const sizes = backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number[] | number, axis);
      if (sizes.some((size) => size === 0)) return undefined;
      const rank = x.shape.length;
      const outputs = sizes.map((_, i) => `y${i}`);
      const shapes = sizes.map((size) => x.shape.map((d, i) => (i === axis ? size : d)));
      const arrays = shapes.map((shape) => backend.allocate(util.sizeFromShape(shape)));
      backend.sessions.run(
        `Split/${sizes.length}/${axis}/${rank}`,
        () => ({
          nodes: [{ op: 'Split', inputs: ['x', 'split'], outputs, attributes: { axis: { int: axis } } }],
          inputs: [float('x', rank), int64('split')],
          outputs: outputs.map((name) => float(name, rank)),
        }),
        [floatInput(backend, x), int64Input(sizes)],
        shapes.map((shape, i) => ({ type: 'float32', shape, data: arrays[i] as Float32Array })),
      );
      return shapes.map((shape, i) => backend.makeTensorInfo(shape, 'float32', arrays[i]));
    },
  },
  PadV2: {
    inputNames: ['x'],
    run: (inputs, backend, attrs) => {
      const [x] = inputs as [TensorInfo];
      if (!allFloat(inputs) || x.shape.length === 0) return undefined;
      const paddings = attrs.paddings as [number, number][];
      const rank = x.shape.length;
      return runOne(
        backend,
        `Pad/${rank}`,
        () =>
          graph(
            [{ op: 'Pad', inputs: ['x', 'pads', 'value'], outputs: ['y'], attributes: { mode: { string: 'constant' } } }],
            [float('x', rank), int64('pads'), float('value', 0)],
            rank,
          ),
        [
          floatInput(backend, x),
          int64Input([...paddings.map(([before]) => before), ...paddings.map(([, after]) => after)]),
          { type: 'float32', shape: [], data: Float32Array.of(attrs.constantValue as number) },
        ],
        x.shape.map((d, i) => d + (paddings[i] as [number, number])[0] + (paddings[i] as [number, number])[1]),
      );
    },
  },
  GatherV2: {
    inputNames: ['x', 'indices'],
    run: (inputs, backend, attrs) => {
      const [x, indices] = inputs as [TensorInfo, TensorInfo];
      if (!allFloat([x]) || indices.dtype !== 'int32' || (attrs.batchDims as number) !== 0 || util.sizeFromShape(indices.shape) === 0) return undefined;
      const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0] as number;
      const indexValues = backend.data.get(indices.dataId).values as Int32Array;
      // Out-of-range indices: the cpu kernel's error message, not ONNX Runtime's.
      const limit = x.shape[axis] as number;
      for (const index of indexValues) if (index < 0 || index >= limit) return undefined;
      const [rx, ri] = [x.shape.length, indices.shape.length];
      const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
      const inner = util.sizeFromShape(x.shape.slice(axis + 1));
      if (inner >= MIN_COPIED_SLICE) {
        // Whole rows (attention's key and value blocks, embedding rows): one memcpy each, where ONNX
        // Runtime's Gather ran at about 1 GB/s.
        const source = values(backend, x);
        const out = backend.allocate(util.sizeFromShape(shape));
        const outer = util.sizeFromShape(x.shape.slice(0, axis));
        let at = 0;
        for (let o = 0; o < outer; o++) {
          const base = o * limit * inner;
          for (const index of indexValues) {
            out.set(source.subarray(base + index * inner, base + (index + 1) * inner), at);
            at += inner;
          }
        }
        return backend.makeTensorInfo(shape, 'float32', out);
      }
      return runOne(
        backend,
        `Gather/${axis}/${rx},${ri}`,
        () =>
          graph(
            [{ op: 'Gather', inputs: ['x', 'indices'], outputs: ['y'], attributes: { axis: { int: axis } } }],
            [float('x', rx), { name: 'indices', type: 'int32', rank: ri }],
            rx + ri - 1,
          ),
        [floatInput(backend, x), { type: 'int32', shape: indices.shape, data: indexValues }],
        shape,
      );
    },
  },
  // In JavaScript: ONNX Runtime's ScatterND copies its zeros input to the output first, and the rows
  // (an embedding table's gradient) are few next to the table.
  ScatterNd: {
    inputNames: ['indices', 'updates'],
    run: (inputs, backend, attrs) => {
      const [indices, updates] = inputs as [TensorInfo, TensorInfo];
      const shape = attrs.shape as number[];
      if (!allFloat([updates]) || indices.dtype !== 'int32' || util.sizeFromShape(shape) === 0 || indices.shape.length === 0) return undefined;
      const indexValues = backend.data.get(indices.dataId).values as Int32Array;
      const depth = indices.shape[indices.shape.length - 1] as number;
      const rows = indexValues.length / depth;
      const strides = util.computeStrides(shape);
      const sliceSize = depth === shape.length ? 1 : (strides[depth - 1] as number);
      if (util.sizeFromShape(updates.shape) !== rows * sliceSize) return undefined;
      const offsets = new Float64Array(rows);
      for (let row = 0; row < rows; row++) {
        let offset = 0;
        for (let d = 0; d < depth; d++) {
          const index = indexValues[row * depth + d] as number;
          // Out of range: the cpu kernel's error message.
          if (index < 0 || index >= (shape[d] as number)) return undefined;
          offset += index * (d === shape.length - 1 ? 1 : (strides[d] as number));
        }
        offsets[row] = offset;
      }
      const out = backend.allocate(util.sizeFromShape(shape));
      scatterAddRows(values(backend, updates), offsets, sliceSize, out);
      return backend.makeTensorInfo([...shape], 'float32', out);
    },
  },
};

/** cpu kernels that pass a tensor on by reference count, never by a view of its array. */
const SHARING_KERNELS = new Set(['Reshape', 'Identity', 'Cast']);

/**
 * Runs the cpu backend's kernel. Its inputs' arrays are released from recycling first: a cpu kernel
 * may answer a view of them (`Slice` returns a subarray), which reuse would overwrite.
 */
function cpuKernel(config: KernelConfig, args: Parameters<KernelFunc>[0]): ReturnType<KernelFunc> {
  if (!SHARING_KERNELS.has(config.kernelName)) {
    const backend = args.backend as unknown as NativeKernelBackend;
    for (const input of Object.values(args.inputs)) if (input !== undefined) backend.release(input.dataId);
  }
  return config.kernelFunc(args);
}

/** Kernel names that run in ONNX Runtime on the native backend (when their inputs are float32). */
export const NATIVE_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);

/**
 * The native backend's kernel for `kernelName`: the ONNX Runtime one, falling back to the cpu kernel
 * `fallback` for inputs it does not take. Kernels the cpu backend lacks (kbb's fused ones) have no
 * fallback and say which inputs they refuse.
 */
export function nativeKernel(kernelName: string, fallback: KernelConfig | undefined, backendName: string): KernelConfig {
  const spec = KERNELS[kernelName];
  if (spec === undefined) {
    if (fallback === undefined) throw new Error(`no native or cpu kernel ${kernelName}`);
    return { ...fallback, backendName, kernelFunc: (args) => cpuKernel(fallback, args) };
  }
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as unknown as NativeKernelBackend;
    const tensors =
      spec.inputNames.length === 0
        ? (Object.values(args.inputs) as TensorInfo[])
        : spec.inputNames.map((name) => (args.inputs as NamedTensorInfoMap)[name] as TensorInfo);
    // Small tensors stay in JavaScript: a call into ONNX Runtime costs tens of microseconds, more than
    // the cpu kernel takes for a few thousand elements (a tiny model ran 20% slower than on wasm).
    // Products and gathers can make large outputs of small inputs: the token-type embedding's
    // [1024, 768] rows of a [2, 768] table took the cpu kernel 39 ms, a row copy 0.3 ms.
    if (fallback !== undefined && !LARGE_FROM_SMALL.has(kernelName) && tensors.every((t) => util.sizeFromShape(t.shape) < backend.minNativeElements)) {
      return cpuKernel(fallback, args);
    }
    const result = spec.run(tensors, backend, args.attrs ?? {});
    if (result !== undefined) return result;
    if (fallback === undefined)
      throw new Error(`${kernelName} takes float32 tensors of one shape, got ${tensors.map((t) => `${t.dtype} [${t.shape}]`).join(' and ')}`);
    return cpuKernel(fallback, args);
  };
  return { kernelName, backendName, kernelFunc };
}
