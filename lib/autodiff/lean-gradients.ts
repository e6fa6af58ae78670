import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.variableGrads` with the same numbers and a fraction of the memory.
 *
 * TensorFlow.js (tfjs-core 4.22, `Engine.gradients` and tape.ts `backpropagateGradients`) walks the
 * tape backwards inside one tidy and frees nothing until the walk ends: the gradient of every
 * intermediate tensor stays alive after the node that produced that tensor has consumed it, every
 * tensor saved for the backward pass stays alive after its node has used it, and whatever a custom
 * gradient (`tf.customGrad`) computes besides its result lands in the walk's scope. So the backward
 * pass's memory only ever grows, to roughly the forward activations plus one gradient per
 * intermediate: at BigBird-base shape that is most of a training step's peak and exhausted the 4 GB
 * wasm heap.
 *
 * This walks the same tape in the same order with the same gradient functions and the same
 * accumulation order (so the results are bitwise those of `tf.variableGrads`), and frees as it goes:
 *  - a node's gradient functions run inside their own tidy, which keeps only the input gradients;
 *  - once a node is processed, the gradients of its outputs are disposed (every consumer of an output
 *    comes later on the tape, so was processed before it) and so are the tensors it saved;
 *  - a gradient that is summed into an existing one is disposed after the sum.
 * Only the variables' gradients survive. Tensors the walk holds are its own: a gradient function that
 * returns a tensor made before it ran (its `dy`, a saved tensor, a closure's) has it cloned first
 * (a clone shares the data on every backend, with lib/backend/wasm-identity.ts on wasm), so nothing
 * outside the walk is ever disposed by it.
 *
 * It reaches into the engine (`startTape`, `endTape`, `scopedRun`, `state.activeTape`,
 * `state.gradientDepth`, `nextTensorId`), which tfjs-core does not type as public; the shape is stated
 * below and checked on first use. Inside an outer gradient computation (higher-order gradients, where
 * the outer tape still needs the saved tensors) it defers to `tf.variableGrads`.
 */

interface TapeNode {
  readonly id: number;
  readonly kernelName: string;
  readonly outputs: tf.Tensor[];
  readonly inputs: Record<string, tf.Tensor>;
  readonly gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  readonly saved?: tf.Tensor[];
}

interface EngineInternals {
  readonly state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  nextTensorId(): number;
}

function engineInternals(): EngineInternals {
  const engine = tf.engine() as unknown as Partial<EngineInternals>;
  for (const method of ['startTape', 'endTape', 'scopedRun', 'tidy', 'nextTensorId'] as const) {
    if (typeof engine[method] !== 'function') throw new Error(`lean gradients: the TensorFlow.js engine has no ${method}() (tfjs-core 4.x expected)`);
  }
  if (engine.state === undefined || typeof engine.state.gradientDepth !== 'number')
    throw new Error('lean gradients: the TensorFlow.js engine has no gradient state (tfjs-core 4.x expected)');
  return engine as EngineInternals;
}

export interface VariableGrads {
  readonly value: tf.Scalar;
  /** By variable name, for the variables the value depends on (others get no entry). */
  readonly grads: tf.NamedTensorMap;
}

/**
 * The value of `f` (a scalar) and its gradient with respect to each trainable variable of `variables`
 * that it depends on, as `tf.variableGrads(f, variables)` returns them; see the file comment for how
 * memory is freed. The caller disposes `value` and the gradients.
 */
export function leanVariableGrads(f: () => tf.Scalar, variables: readonly tf.Variable[]): VariableGrads {
  if (tf.getGradient('BatchMatMul') === undefined) {
    // Node loads tfjs-core's CommonJS bundle, which registers no gradient; the `@tensorflow/tfjs` union package (or lib/backend) does.
    throw new Error(
      'leanVariableGrads: TensorFlow.js has no gradients registered (tfjs-core alone registers none): call selectBackend() or ensureTrainingGradients() from lib/backend first',
    );
  }
  const engine = engineInternals();
  if (engine.state.gradientDepth > 0) return tf.variableGrads(f, [...variables]);
  const xs = variables.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error('leanVariableGrads: no trainable variable to differentiate with respect to');
  const { value, grads: list } = leanGradients(f, xs);
  if (value.rank !== 0) {
    value.dispose();
    for (const g of list) g?.dispose();
    throw new Error(`leanVariableGrads: f must return a scalar, but it returned a rank-${value.rank} tensor`);
  }
  const grads: tf.NamedTensorMap = {};
  xs.forEach((x, i) => {
    const grad = list[i];
    if (grad !== undefined) grads[x.name] = grad;
  });
  if (Object.keys(grads).length === 0) {
    value.dispose();
    throw new Error('leanVariableGrads: the value does not depend on any of the variables (no path from a variable to the result)');
  }
  return { value: value as tf.Scalar, grads };
}

/**
 * `f()` and the vector-Jacobian product `dy · ∂f/∂x` for each of `xs` (dy defaults to ones: the plain
 * gradient of a scalar), undefined for an x that `f` does not depend on. Like `Engine.gradients`, but
 * freeing as it goes (file comment). It may run inside another gradient walk's backward pass (a
 * recomputed op's gradient does, lib/autodiff/recompute.ts): that walk's tape is put back afterwards.
 */
export function leanGradients(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy?: tf.Tensor): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] } {
  const engine = engineInternals();
  if (engine.state.gradientDepth > 0)
    throw new Error("leanGradients: cannot run while a tape is recording (inside another gradient computation's forward pass)");
  // Set when this runs inside the backward pass of an outer walk (ours or the engine's).
  const outerTape = engine.state.activeTape;
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  const tape = engine.state.activeTape ?? [];
  const kept = new Set<tf.Tensor>();
  try {
    if (!(y instanceof tf.Tensor)) throw new Error('leanGradients: f must return a tensor');
    if (dy !== undefined && !tf.util.arraysEqual(dy.shape, y.shape)) throw new Error(`leanGradients: dy has shape [${dy.shape}], f's value [${y.shape}]`);
    const filtered = nodesFromXsToY(tape, xs, y);
    const grads = engine.tidy('backward', () => backpropagate(engine, filtered, y, xs, kept, dy) as tf.Tensor[]);
    return { value: y, grads };
  } catch (error) {
    if (y instanceof tf.Tensor) y.dispose();
    for (const t of kept) t.dispose();
    throw error;
  } finally {
    // What the engine does after its own walk: drop every node's saved tensors (those of nodes off the
    // x → y path were never used) and the tape.
    for (const node of tape) for (const t of node.saved ?? []) if (!kept.has(t)) t.dispose();
    engine.state.activeTape = outerTape;
  }
}

/**
 * Walks the filtered tape backwards (see the file comment). Returns the gradient of each x (undefined
 * where none reached it); `kept` receives them, for the caller's error path.
 */
function backpropagate(
  engine: EngineInternals,
  filtered: readonly TapeNode[],
  y: tf.Tensor,
  xs: readonly tf.Tensor[],
  kept: Set<tf.Tensor>,
  dy: tf.Tensor | undefined,
): (tf.Tensor | undefined)[] {
  // tensor id → its accumulated gradient; every tensor held here is the walk's own and held once.
  const grads = new Map<number, tf.Tensor>();
  const held = new Set<tf.Tensor>();
  const hold = (id: number, t: tf.Tensor): void => {
    grads.set(id, t);
    held.add(t);
  };
  const release = (id: number): void => {
    const t = grads.get(id);
    if (t === undefined) return;
    grads.delete(id);
    held.delete(t);
    t.dispose();
  };
  hold(y.id, dy === undefined ? tf.onesLike(y) : tf.clone(dy));

  for (let i = filtered.length - 1; i >= 0; i--) {
    const node = filtered[i];
    if (node.gradient === undefined) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
    const names = Object.keys(node.inputs);
    // Tensors with an id above this one were made by this node's gradient functions.
    const mark = engine.nextTensorId();
    const dxs = tf.tidy(() => {
      const functions = node.gradient!(dys);
      const out: Record<string, tf.Tensor> = {};
      for (const name of names) {
        if (!(name in functions)) {
          throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(functions)}.`);
        }
        out[name] = functions[name]();
      }
      return out;
    });
    for (const name of names) {
      let dx = dxs[name];
      const x = node.inputs[name];
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      }
      // A tensor that existed before (a dy, a saved tensor) or that this walk already holds: own a clone.
      if (dx.id <= mark || held.has(dx)) dx = tf.clone(dx);
      const previous = grads.get(x.id);
      if (previous === undefined) {
        hold(x.id, dx);
      } else {
        const sum = tf.add(previous, dx);
        release(x.id);
        dx.dispose();
        hold(x.id, sum);
      }
    }
    // Every consumer of this node's outputs came later on the tape and is done: their gradients and
    // what this node saved are needed no more.
    for (const o of node.outputs) release(o.id);
    for (const t of node.saved ?? []) t.dispose();
  }
  const out = xs.map((x) => grads.get(x.id));
  for (const grad of out) if (grad !== undefined) kept.add(grad);
  return out;
}

/**
 * The nodes on a path from some x to y, in tape order, with inputs not computed from an x pruned
 * (tfjs-core tape.ts `getFilteredNodesXToY`, which tfjs-core does not export).
 */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name].id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const name in node.inputs) leadsToY.add(node.inputs[name].id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromX.has(node.inputs[name].id)) inputs[name] = node.inputs[name];
    filtered.push({ ...node, inputs, outputs: node.outputs });
  }
  return filtered;
}
