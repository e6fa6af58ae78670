/** Appends `value` (up to 2^53) as a little-endian base-128 varint, as LevelDB tables and TensorBundle string tensors store lengths. */
export function pushVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}
