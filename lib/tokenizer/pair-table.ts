/**
 * Counts of symbol pairs in an open-addressing hash table of typed arrays. The trainer touches a pair
 * for every occurrence it merges; a `Map` keyed by a packed double spends most of that time boxing
 * and hashing heap numbers, this spends it on two integer multiplies.
 */
export class PairTable {
  first: Int32Array;
  second: Int32Array;
  counts: Float64Array;
  size = 0;
  private mask: number;

  constructor(expected = 1024) {
    const capacity = capacityFor(expected);
    this.first = new Int32Array(capacity).fill(-1);
    this.second = new Int32Array(capacity);
    this.counts = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** The slot of pair (a, b), added with count 0 if absent. Slots stay put until `reserve` grows the table. */
  slot(a: number, b: number): number {
    const first = this.first;
    const mask = this.mask;
    let at = hash(a, b) & mask;
    for (;;) {
      const found = first[at];
      if (found === -1) {
        first[at] = a;
        this.second[at] = b;
        this.size++;
        return at;
      }
      if (found === a && this.second[at] === b) return at;
      at = (at + 1) & mask;
    }
  }

  /** The slot of pair (a, b), or -1. */
  find(a: number, b: number): number {
    const first = this.first;
    const mask = this.mask;
    let at = hash(a, b) & mask;
    for (;;) {
      const found = first[at];
      if (found === -1) return -1;
      if (found === a && this.second[at] === b) return at;
      at = (at + 1) & mask;
    }
  }

  /** Makes room for `more` new pairs at a load of at most one half; returns whether slots moved. */
  reserve(more: number): boolean {
    if ((this.size + more) * 2 <= this.capacity) return false;
    const { first, second, counts } = this;
    const capacity = capacityFor(this.size + more);
    this.first = new Int32Array(capacity).fill(-1);
    this.second = new Int32Array(capacity);
    this.counts = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
    for (let s = 0; s < first.length; s++) {
      if (first[s] === -1) continue;
      this.counts[this.slot(first[s], second[s])] = counts[s];
    }
    return true;
  }
}

function capacityFor(pairs: number): number {
  let capacity = 1024;
  while (capacity < pairs * 2) capacity *= 2;
  return capacity;
}

const hash = (a: number, b: number): number => {
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  return h ^ (h >>> 15);
};
