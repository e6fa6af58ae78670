/** Symbol ids stay below this, so a pair packs into one exact double: `first * PAIR_KEY_BASE + second`. */
export const PAIR_KEY_BASE = 2 ** 26;

/**
 * A max-heap of candidate merges ordered as Hugging Face's BPE trainer orders them: the higher count
 * first, and between equal counts the smaller pair of ids (packed keys order as the pairs do). Each
 * entry also names a run of word indices (`offset`, `length` into the trainer's word lists): the words
 * the pair was seen in when the entry was made. Entries go stale as counts change; the trainer checks
 * an entry against the current count when it pops it, as the reference does.
 *
 * Entries live in parallel typed arrays: the trainer queues hundreds of thousands of them, and an
 * object and an array for each would be most of its garbage.
 */
export class MergeQueue {
  private keys = new Float64Array(1024);
  private counts = new Float64Array(1024);
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024);
  size = 0;
  /** The entry the last `pop()` took out. */
  key = 0;
  count = 0;
  offset = 0;
  length = 0;

  /** The key of the entry at heap position `at` (for diagnostics that look past the top). */
  keyAt(at: number): number {
    return this.keys[at];
  }

  push(key: number, count: number, offset: number, length: number): void {
    if (this.size === this.keys.length) this.grow();
    const { keys, counts } = this;
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!(count > counts[parent] || (count === counts[parent] && key < keys[parent]))) break;
      this.move(parent, at);
      at = parent;
    }
    this.place(at, key, count, offset, length);
  }

  /** Takes the top entry out into `key`, `count`, `offset`, `length`; false when the queue is empty. */
  pop(): boolean {
    if (this.size === 0) return false;
    const { keys, counts, offsets, lengths } = this;
    this.key = keys[0];
    this.count = counts[0];
    this.offset = offsets[0];
    this.length = lengths[0];
    const n = --this.size;
    if (n === 0) return true;
    const key = keys[n];
    const count = counts[n];
    const offset = offsets[n];
    const length = lengths[n];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (counts[right] > counts[child] || (counts[right] === counts[child] && keys[right] < keys[child]))) child = right;
      if (!(counts[child] > count || (counts[child] === count && keys[child] < key))) break;
      this.move(child, at);
      at = child;
    }
    this.place(at, key, count, offset, length);
    return true;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from];
    this.counts[to] = this.counts[from];
    this.offsets[to] = this.offsets[from];
    this.lengths[to] = this.lengths[from];
  }

  private place(at: number, key: number, count: number, offset: number, length: number): void {
    this.keys[at] = key;
    this.counts[at] = count;
    this.offsets[at] = offset;
    this.lengths[at] = length;
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    const grown = <T extends Float64Array | Int32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.keys = grown(this.keys, new Float64Array(capacity));
    this.counts = grown(this.counts, new Float64Array(capacity));
    this.offsets = grown(this.offsets, new Float64Array(capacity));
    this.lengths = grown(this.lengths, new Int32Array(capacity));
  }
}
