export interface VocabTrieState {
  readonly parents: Int32Array;
  readonly units: Int32Array;
  readonly children: Int32Array;
  readonly values: Int32Array;
  readonly transitions: number;
  readonly nodes: number;
}

/**
 * A trie over UTF-16 code units, stored in typed arrays with an open-addressing transition table,
 * so the longest vocabulary prefix at any position is found in one forward walk with no string
 * allocation. Node 0 is the root; `value[node]` is the token id ending there, or -1.
 */
export class VocabTrie {
  private parents: Int32Array;
  private units: Int32Array;
  private children: Int32Array;
  private mask: number;
  private transitions = 0;
  private values: Int32Array;
  private nodes = 1;

  /** The trie's tables, for another thread to rebuild it from (`VocabTrie.fromState`) without inserting every entry again. */
  state(): VocabTrieState {
    return { parents: this.parents, units: this.units, children: this.children, values: this.values, transitions: this.transitions, nodes: this.nodes };
  }

  static fromState(state: VocabTrieState): VocabTrie {
    const trie = new VocabTrie(0);
    trie.parents = state.parents;
    trie.units = state.units;
    trie.children = state.children;
    trie.mask = state.parents.length - 1;
    trie.values = state.values;
    trie.transitions = state.transitions;
    trie.nodes = state.nodes;
    return trie;
  }

  constructor(expectedUnits = 1024) {
    const size = 1 << Math.ceil(Math.log2(Math.max(16, expectedUnits * 2)));
    this.parents = new Int32Array(size).fill(-1);
    this.units = new Int32Array(size);
    this.children = new Int32Array(size);
    this.mask = size - 1;
    this.values = new Int32Array(Math.max(16, expectedUnits + 1)).fill(-1);
  }

  /** Child of `node` along code unit `unit`, or -1. */
  child(node: number, unit: number): number {
    let slot = (Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b)) & this.mask;
    for (;;) {
      const parent = this.parents[slot];
      if (parent === node && this.units[slot] === unit) return this.children[slot];
      if (parent === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  value(node: number): number {
    return this.values[node];
  }

  insert(key: string, id: number): void {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      let next = this.child(node, unit);
      if (next === -1) next = this.addChild(node, unit);
      node = next;
    }
    this.values[node] = id;
  }

  private addChild(node: number, unit: number): number {
    if ((this.transitions + 1) * 2 > this.parents.length) this.rehash(this.parents.length * 2);
    const created = this.nodes++;
    if (created >= this.values.length) {
      const grown = new Int32Array(this.values.length * 2).fill(-1);
      grown.set(this.values);
      this.values = grown;
    }
    this.place(node, unit, created);
    this.transitions++;
    return created;
  }

  private place(node: number, unit: number, childNode: number): void {
    let slot = (Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b)) & this.mask;
    while (this.parents[slot] !== -1) slot = (slot + 1) & this.mask;
    this.parents[slot] = node;
    this.units[slot] = unit;
    this.children[slot] = childNode;
  }

  private rehash(size: number): void {
    const { parents, units, children } = this;
    this.parents = new Int32Array(size).fill(-1);
    this.units = new Int32Array(size);
    this.children = new Int32Array(size);
    this.mask = size - 1;
    for (let slot = 0; slot < parents.length; slot++) {
      if (parents[slot] !== -1) this.place(parents[slot], units[slot], children[slot]);
    }
  }
}
