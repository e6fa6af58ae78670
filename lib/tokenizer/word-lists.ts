/**
 * Runs of word indices, appended one after another into one growing array: the words each queued
 * merge was seen in. A run is `(offset, length)`; runs are never freed (a training appends a few
 * million indices in all), so an offset stays valid for the whole training.
 */
export class WordLists {
  data: Int32Array;
  length: number;

  /** Starts from runs already laid out in `initial` (all of it in use). */
  constructor(initial: Int32Array) {
    this.data = initial;
    this.length = initial.length;
  }

  /** Makes room for `more` indices; `data` may be a new array afterwards. */
  reserve(more: number): void {
    if (this.length + more <= this.data.length) return;
    const grown = new Int32Array(Math.max(this.length + more, this.data.length * 2, 1024));
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}
