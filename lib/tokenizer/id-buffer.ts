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

  /** Appends `ids[start, end)`. */
  pushRange(ids: Int32Array, start: number, end: number): void {
    const count = end - start;
    if (this.length + count > this.data.length) this.grow(this.length + count);
    if (count < 16) {
      // Short copies (most sentences) are cheaper as a loop than as a subarray view plus set().
      for (let i = 0; i < count; i++) this.data[this.length + i] = ids[start + i];
    } else {
      this.data.set(ids.subarray(start, end), this.length);
    }
    this.length += count;
  }

  clear(): void {
    this.length = 0;
  }

  /** Empties the buffer and gives its memory back, keeping `capacity` ids of room. */
  release(capacity: number): void {
    this.length = 0;
    this.data = new Int32Array(capacity);
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
