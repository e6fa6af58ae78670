/** A candidate merge: a pair of symbol ids, its count when queued, and the words it was seen in. */
export interface QueuedMerge {
  /** `first * PAIR_KEY_BASE + second`: ordering keys orders pairs as (first, second) does. */
  key: number;
  count: number;
  /** Indices of the words the pair was seen in when this entry was made (no repeats). */
  readonly words: Int32Array | number[];
}

/** Symbol ids stay below this, so a pair packs into one exact double. */
export const PAIR_KEY_BASE = 2 ** 26;

/**
 * A max-heap of candidate merges ordered as Hugging Face's BPE trainer orders them: the higher count
 * first, and between equal counts the smaller pair of ids. Entries go stale as counts change; the
 * trainer checks an entry against the current count when it pops it, as the reference does.
 */
export class MergeQueue {
  private readonly heap: QueuedMerge[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Every entry, in heap order (for diagnostics that need to look past the top). */
  entries(): readonly QueuedMerge[] {
    return this.heap;
  }

  push(entry: QueuedMerge): void {
    const heap = this.heap;
    let at = heap.length;
    heap.push(entry);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[at] = heap[parent];
      at = parent;
    }
    heap[at] = entry;
  }

  pop(): QueuedMerge | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    const n = heap.length;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right], heap[left]) ? right : left;
      if (!before(heap[child], last)) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = last;
    return top;
  }
}

const before = (a: QueuedMerge, b: QueuedMerge): boolean => a.count > b.count || (a.count === b.count && a.key < b.key);
