import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorpusError, MAX_LINE_BYTES, readCorpusFile, txtLines } from '../../lib/corpus/index.js';
import { expectReadOrRefused, fuzzParameters, mutated } from '../helpers/fuzz.js';
import { put, useTempDir } from './support.js';

const VALID = Buffer.from('\ufeff첫째 줄 😀\r\n둘째\r셋째\n\n넷째\u2028같은 줄\n아주 긴 줄은 아니지만 조금 긴 줄: 가나다라마바사아자차카타파하\r\n끝');

/** What Python's text mode gives for `bytes`: strict UTF-8 (BOM kept), universal newlines; undefined where it refuses. */
function pythonLines(bytes: Uint8Array): string[] | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

describe('fuzzed .txt corpora', () => {
  const tmp = useTempDir();

  it('txtLines gives exactly the lines Python would, or a CorpusError naming the file (any chunk size, any line limit)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(VALID), fc.integer({ min: 1, max: 70 }), fc.constantFrom(8, 40, 1 << 20), async (input, chunkSize, maxLineBytes) => {
        const file = join(tmp(), `fuzz-${n++}.txt`);
        writeFileSync(file, input.bytes);
        const got: string[] = [];
        const outcome = await expectReadOrRefused(
          file,
          async () => {
            for await (const line of txtLines(file, { chunkSize, maxLineBytes })) got.push(line.text);
          },
          { mutations: input.mutations, chunkSize, maxLineBytes },
        );
        const expected = pythonLines(input.bytes);
        const fits = expected?.every((line) => Buffer.byteLength(line) <= maxLineBytes);
        if (outcome === 'read') {
          expect(got).toEqual(expected);
          expect(fits, 'read a line over the limit').toBe(true);
        } else expect(expected === undefined || !fits, `refused a file Python reads, ${JSON.stringify(expected)}`).toBe(true);
      }),
      fuzzParameters(),
    );
  });

  it('readCorpusFile returns sentences or a CorpusError naming the file', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(VALID), async (input) => {
        const file = join(tmp(), `corpus-${n++}.txt`);
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(
          file,
          async () => {
            for await (const _ of readCorpusFile(file, { chunkSize: 16, maxLineBytes: 64 })) {
              // every batch
            }
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });

  it('a line over the limit is refused while it is read, naming the file, line, byte where it starts and the limit', async () => {
    const file = put(tmp(), 'long-line.txt', `short\n${'가'.repeat(1000)}\nnext\n`);
    const read = async (options: { chunkSize?: number; maxLineBytes?: number }): Promise<unknown> => {
      try {
        for await (const _ of txtLines(file, options)) {
          // read on
        }
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const chunkSize of [7, 100, undefined]) {
      const error = await read({ chunkSize, maxLineBytes: 2000 });
      expect(error).toBeInstanceOf(CorpusError);
      expect((error as CorpusError).message).toMatch(
        new RegExp(`^${file} \\(line 2(, byte 6)?\\): a line longer than 2000 bytes \\(kbb's limit on one line or document, MAX_LINE_BYTES\\)`),
      );
    }
    expect(await read({ maxLineBytes: 3000 })).toBeUndefined();
  });

  it(`one line of more than MAX_LINE_BYTES (${MAX_LINE_BYTES / 2 ** 20} MiB) is refused without holding it all`, async () => {
    const file = join(tmp(), 'huge-line.txt');
    writeFileSync(file, Buffer.alloc(MAX_LINE_BYTES + 2 * 2 ** 20, 'a'));
    const before = process.memoryUsage().rss;
    let peak = before;
    let failure: unknown;
    try {
      for await (const _ of txtLines(file, { onRead: () => (peak = Math.max(peak, process.memoryUsage().rss)) })) {
        // read on
      }
    } catch (error) {
      failure = error;
    }
    expect((failure as Error).message).toBe(
      `${file} (line 1, byte 0): a line longer than 64 MiB (kbb's limit on one line or document, MAX_LINE_BYTES); split the document or check that the file is what it should be`,
    );
    expect(failure).toBeInstanceOf(CorpusError);
    // The line is held once (64 MiB of Latin-1 string) plus a chunk, not the file twice over.
    expect(peak - before).toBeLessThan(400 * 2 ** 20);
  });
});
