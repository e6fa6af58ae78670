/** A growable Int32 list: the fast encoder appends ids here without allocating per token. */
export class IdBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: Int32Array): void {
    if (this.length + ids.length > this.data.length) this.grow(this.length + ids.length);
    this.data.set(ids, this.length);
    this.length += ids.length;
  }

  clear(): void {
    this.length = 0;
  }

  /** A copy of the ids written so far. */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }

  private grow(needed: number): void {
    const next = new Int32Array(Math.max(needed, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
