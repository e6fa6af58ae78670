/**
 * Every item of an async iterable, in an array. tslab runs a cell with top-level `await`, but not
 * one with a top-level `for await` loop (a SyntaxError), so notebooks write
 * `for (const x of await collect(stream))` instead — for small data, such as the sample's.
 */
export async function collect<T>(items: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
