import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorpusError, koLmRecordBatches, koLmRecords, type StreamDataOptions, streamData } from '../../lib/corpus/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';
import { collect, jsonl, paxBody, put, rawFrame, skippableFrame, tar, tarHeader, useTempDir, zst } from './support.js';

const CALLS: [string, StreamDataOptions][] = [
  ['stream_data()', {}],
  ['stream_data(get_meta=True)', { getMeta: true }],
  ['stream_data(autojoin_sentences=True)', { autojoinSentences: true }],
  ["stream_data(get_meta=True, autojoin_sentences=True, sent_joiner='\\n')", { getMeta: true, autojoinSentences: true, sentJoiner: '\n' }],
];

describe.skipIf(!hasFixtures)('ko_lm_dataformat fixtures: exactly what Reader.stream_data() yields', () => {
  const generated = fixture('ko-lm-dataformat', 'generated');
  const archiveDir = join(generated, 'ko_lm_dataformat_archive');
  // Read at collection time, so only when the fixtures are there (the block is skipped otherwise).
  const expected = hasFixtures
    ? (JSON.parse(readFileSync(join(generated, 'ko_lm_dataformat_archive.expected_stream_data.json'), 'utf8')) as Record<string, unknown[]>)
    : {};

  for (const [call, options] of CALLS) {
    it(`archive folder written by ko_lm_dataformat 0.3.1: ${call}`, async () => {
      expect(await collect(streamData(archiveDir, options))).toEqual(expected[call]);
    });
    it(`the same, file by file and in 7-byte reads: ${call}`, async () => {
      const files = readdirSync(archiveDir)
        .filter((n) => n.endsWith('.jsonl.zst'))
        .sort();
      const ours: unknown[] = [];
      for (const name of files) ours.push(...(await collect(streamData(join(archiveDir, name), { ...options, chunkSize: 7 }))));
      expect(ours).toEqual(expected[call]);
    });
  }

  it('records carry their file and JSON line number; the open chunk (current_chunk_incomplete_0) is skipped', async () => {
    const records = await collect(koLmRecords(archiveDir));
    expect(records.length).toBe(23);
    expect(records.map((r) => r.file.slice(archiveDir.length + 1))).toEqual([
      ...Array<string>(20).fill('data_0_261125005450_v0.3.1_nsmc_synopses.jsonl.zst'),
      ...Array<string>(3).fill('data_1_261125005450_v0.3.1_kowiki_sample.jsonl.zst'),
    ]);
    expect(records.map((r) => r.line)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 1, 2, 3]);
    expect(records.map((r) => (Array.isArray(r.text) ? r.text.length : 0)).slice(0, 20)).toEqual([
      4, 2, 4, 1, 4, 2, 3, 4, 5, 3, 22, 6, 4, 4, 4, 4, 13, 3, 5, 14,
    ]);
  });

  it('archive written by the original lm_dataformat (\\u-escaped JSON, ujson "\\/"), with its lists joined as its own Reader joins them', async () => {
    const lm = JSON.parse(readFileSync(join(generated, 'lm_dataformat_archive.expected_stream_data.json'), 'utf8')) as Record<string, unknown>;
    expect(lm.library).toMatch(/^lm_dataformat/);
    const ours = await collect(streamData(join(generated, 'lm_dataformat_archive'), { getMeta: true, autojoinSentences: true, sentJoiner: '\n\n' }));
    expect(ours).toEqual(lm['stream_data(get_meta=True)']);
  });

  describe('upstream test assets', () => {
    const assets = fixture('ko-lm-dataformat', 'upstream-test-assets');
    const blns = hasFixtures ? readFileSync(join(assets, 'blns.txt'), 'utf8') : '';
    const tarExpected = hasFixtures
      ? (JSON.parse(readFileSync(join(assets, 'blns.jsonl.zst.tar.expected_stream_data.json'), 'utf8'), (_, v: unknown) =>
          v === '<blns.txt contents>' ? blns : v,
        ) as Record<string, unknown[]>)
      : {};

    it('blns.jsonl.zst.tar (two zstd members, each read as its own stream), every call the fixture records', async () => {
      const calls = CALLS.filter(([c]) => c in tarExpected);
      expect(calls.length).toBe(3);
      for (const [call, options] of calls) {
        expect(await collect(streamData(join(assets, 'blns.jsonl.zst.tar'), options)), call).toEqual(tarExpected[call]);
        expect(await collect(streamData(join(assets, 'blns.jsonl.zst.tar'), { ...options, chunkSize: 100 })), call).toEqual(tarExpected[call]);
      }
      const records = await collect(koLmRecords(join(assets, 'blns.jsonl.zst.tar')));
      expect(records.map((r) => r.member)).toEqual([
        'test_dir/2.zst',
        'test_dir/2.zst',
        'test_dir/2.zst',
        'test_dir/2.zst',
        'test_dir/1.zst',
        'test_dir/1.zst',
        'test_dir/1.zst',
        'test_dir/1.zst',
      ]);
    });

    it("kobigbird-sample-data/blns.jsonl.zst (= tar member test_dir/1.zst) yields that member's four documents", async () => {
      const path = fixture('kobigbird-sample-data', 'blns.jsonl.zst');
      for (const [call, options] of CALLS.filter(([c]) => c in tarExpected)) {
        expect(await collect(streamData(path, options)), call).toEqual(tarExpected[call].slice(4));
      }
      const texts = await collect(streamData(path));
      expect(texts.map((t) => (typeof t === 'string' ? 'str' : Array.isArray(t) ? `list ${t.length}` : typeof t))).toEqual(['str', 'list 2', 'str', 'str']);
      expect([...(texts[0] as string)].length).toBe(25621); // code points, as Python's len() counts
    });
  });
});

describe('ko_lm_dataformat on archives written here', () => {
  const tmp = useTempDir();
  let n = 0;
  const archive = (bytes: Uint8Array, name = `a${n++}.jsonl.zst`): string => put(tmp(), name, bytes);
  const failure = async (path: string, options: StreamDataOptions = {}): Promise<CorpusError> => {
    const error = await collect(streamData(path, options)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusError);
    return error as CorpusError;
  };

  it('string, list and dict texts; meta as stored (null and strings too), {} when absent', async () => {
    const path = archive(zst(jsonl({ text: '하나', meta: { n: 1 } }, { text: ['둘', '셋'] }, { text: { a: 1 }, meta: null }, { text: 7, meta: 'm' })));
    expect(await collect(streamData(path))).toEqual(['하나', ['둘', '셋'], { a: 1 }, 7]);
    expect(await collect(streamData(path, { getMeta: true }))).toEqual([
      ['하나', { n: 1 }],
      [['둘', '셋'], {}],
      [{ a: 1 }, null],
      [7, 'm'],
    ]);
    expect(await collect(streamData(path, { autojoinSentences: true }))).toEqual(['하나', '둘 셋', { a: 1 }, 7]);
    expect(await collect(streamData(path, { autojoinSentences: true, sentJoiner: '\n' }))).toEqual(['하나', '둘\n셋', { a: 1 }, 7]);
  });

  it('reads across frames, skippable frames, hand-made frames (checksum flag, single segment, empty), whatever the read size', async () => {
    const frames = [
      zst(jsonl({ text: 'one' })),
      skippableFrame(Buffer.from('ignored')),
      rawFrame(Buffer.from(`${jsonl({ text: 'two' })}{"text": "thr`)),
      rawFrame(Buffer.from('ee"}\n'), { checksum: true }), // a line may span frames: the stream is their concatenation
      rawFrame(Buffer.alloc(0)),
      rawFrame(Buffer.from(jsonl({ text: ['four', 'five'] })), { singleSegment: true }),
      rawFrame(Buffer.from(jsonl(...Array.from({ length: 8000 }, (_, i) => ({ text: `문장 ${i}` }))))), // several raw blocks
    ];
    const bytes = Buffer.concat(frames);
    const path = archive(bytes);
    const expected = ['one', 'two', 'three', ['four', 'five'], ...Array.from({ length: 8000 }, (_, i) => `문장 ${i}`)];
    for (const chunkSize of [1000, undefined]) expect(await collect(streamData(path, { chunkSize })), `chunk ${chunkSize}`).toEqual(expected);
    // Every chunk boundary, on the small frames (one byte per read is slow on the large one).
    const small = archive(bytes.subarray(0, bytes.length - frames.at(-1)!.length));
    for (const chunkSize of [1, 2, 3, 5]) expect(await collect(streamData(small, { chunkSize })), `chunk ${chunkSize}`).toEqual(expected.slice(0, 4));
  });

  it('lines and characters split across decompressed chunks (7-byte frames) decode, and bad lines are still placed exactly', async () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({ text: i % 2 ? [`문장 ${i}`, '😀 둘째'] : `한국어 ${i}`, meta: { i } }));
    const stream = Buffer.from(`${jsonl(...docs)}{"text": "좋음"}\n{"text": "나쁨"`);
    const frames: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 7) frames.push(rawFrame(stream.subarray(at, at + 7)));
    const path = archive(Buffer.concat(frames));
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const item of streamData(path, { getMeta: true })) seen.push(item);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([...docs.map((d) => [d.text, d.meta]), ['좋음', {}]]);
    const badLine = Buffer.byteLength(`${jsonl(...docs)}{"text": "좋음"}\n`);
    expect((error as CorpusError).message).toMatch(new RegExp(`\\(line 42, decompressed byte ${badLine}\\): invalid JSON`));
  });

  it('the records before a bad line come out before the error, as Python yields them before raising', async () => {
    const path = archive(
      zst(Buffer.concat([Buffer.from(jsonl({ text: '가' }, { text: '나' })), Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), Buffer.from(jsonl({ text: '다' }))])),
    );
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const item of streamData(path)) seen.push(item);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['가', '나']);
    expect((error as CorpusError).message).toBe(
      `${path} (line 3, decompressed byte ${Buffer.byteLength(jsonl({ text: '가' }, { text: '나' })) + 1}): invalid UTF-8 (byte 0xff)`,
    );
    expect([(error as CorpusError).line, (error as CorpusError).decompressed]).toEqual([3, true]);
  });

  it('lines: CRLF and a last line without newline are fine; one leading RS (\\x1e) or BOM is skipped as jsonlines 3+ does', async () => {
    const path = archive(zst('{"text": "a"}\r\n\x1e{"text": "b"}\n\ufeff{"text": "c"}\n {"text": "d"} \n{"text": "e"}'));
    expect(await collect(streamData(path))).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it("NaN, Infinity and -Infinity outside strings are numbers, as Python's json.loads reads them", async () => {
    const path = archive(zst('{"text": "NaN Infinity \\"NaN\\"", "meta": {"a": NaN, "b": [Infinity, -Infinity], "c": "-Infinity"}}\n'));
    const [[text, meta]] = await collect(streamData(path, { getMeta: true }));
    expect(text).toBe('NaN Infinity "NaN"');
    expect(meta).toEqual({ a: Number.NaN, b: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], c: '-Infinity' });
  });

  it('onRead counts the compressed bytes read, file by file: a .jsonl.zst, a .jsonl.zst.tar and a folder of both add up to their sizes', async () => {
    const root = `${tmp()}/read-bytes`;
    const docs = Array.from({ length: 300 }, (_, i) => ({ text: [`문장 ${i}`, `sentence ${i} `.repeat(i % 7)], meta: {} }));
    const single = put(root, 'a.jsonl.zst', zst(jsonl(...docs)));
    const archived = put(
      root,
      'b.jsonl.zst.tar',
      tar([
        { name: 'm1.zst', data: zst(jsonl(...docs.slice(0, 100))) },
        { name: 'm2.zst', data: zst(jsonl(...docs.slice(100))) },
      ]),
    );
    for (const path of [single, archived, root]) {
      let read = 0;
      const records = await collect(koLmRecordBatches(path, { chunkSize: 512, onRead: (bytes) => (read += bytes) }));
      const size = path === root ? statSync(single).size + statSync(archived).size : statSync(path).size;
      expect(read, path).toBe(size);
      expect(records.flat().length, path).toBe(path === root ? 600 : 300);
    }
  });

  it('an empty file is an empty archive', async () => {
    expect(await collect(streamData(archive(Buffer.alloc(0))))).toEqual([]);
    expect(await collect(streamData(archive(rawFrame(Buffer.alloc(0)))))).toEqual([]);
  });

  it('a folder: sorted entries, not recursive, unknown names skipped; formats it cannot read are errors', async () => {
    const root = `${tmp()}/folder`;
    put(root, 'b.jsonl.zst', zst(jsonl({ text: 'b' })));
    put(root, 'a.jsonl.zst', zst(jsonl({ text: 'a' })));
    put(root, 'c.jsonl.zst.tar', tar([{ name: 'm.zst', data: zst(jsonl({ text: 'c' })) }]));
    put(root, 'current_chunk_incomplete_0', rawFrame(Buffer.alloc(0)));
    put(root, 'notes.md', 'x');
    put(root, 'sub/d.jsonl.zst', zst(jsonl({ text: 'd' })));
    expect(await collect(streamData(root))).toEqual(['a', 'b', 'c']);
    put(root, 'e.txt', 'whole file');
    await expect(collect(streamData(root))).rejects.toThrow(
      `${root}/e.txt: ko_lm_dataformat reads this format, but this reader only supports .jsonl.zst and .jsonl.zst.tar`,
    );
    await expect(collect(streamData(`${root}/notes.md`))).rejects.toThrow(/not a ko_lm_dataformat archive/);
  });

  it('tar: regular members in archive order (empty ones skipped), other types skipped, pax size honoured', async () => {
    const one = zst(jsonl({ text: '1' }));
    const two = zst(jsonl({ text: '2' }, { text: '3' }));
    const paxed = zst(jsonl({ text: 'pax' }));
    const bytes = Buffer.concat([
      tarHeader('dir/', 0, '5'),
      tar(
        [
          { name: 'dir/b.zst', data: two },
          { name: 'dir/a.zst', data: one },
          { name: 'empty.zst', data: Buffer.alloc(0) },
        ],
        false,
      ),
      tar([{ name: 'link', data: Buffer.alloc(0), type: '2' }], false),
      tar([{ name: 'PaxHeader', data: paxBody({ size: String(paxed.length), path: 'long/name.zst' }), type: 'x' }], false),
      // the ustar size field is wrong on purpose: the pax record rules
      tarHeader('short', 3),
      paxed,
      Buffer.alloc((512 - (paxed.length % 512)) % 512),
      Buffer.alloc(1024),
    ]);
    const path = archive(bytes, 'members.jsonl.zst.tar');
    for (const chunkSize of [1, 100, undefined]) expect(await collect(streamData(path, { chunkSize }))).toEqual(['2', '3', '1', 'pax']);
    expect((await collect(koLmRecords(path))).map((r) => `${r.member}:${r.line}`)).toEqual(['dir/b.zst:1', 'dir/b.zst:2', 'dir/a.zst:1', 'long/name.zst:1']);
  });

  it('tar errors: no end-of-archive block, a member cut short, a bad size field, bad data inside a member (named by member)', async () => {
    const member = zst(jsonl({ text: 'x' }));
    const noEnd = archive(tar([{ name: 'm.zst', data: member }], false), 'no-end.jsonl.zst.tar');
    expect((await failure(noEnd)).message).toMatch(/ends without its end-of-archive block/);
    const full = tar([{ name: 'm.zst', data: member }]);
    const cut = archive(full.subarray(0, 512 + member.length - 2), 'cut.jsonl.zst.tar');
    expect((await failure(cut)).message).toMatch(/the tar archive ends inside member "m\.zst"/);
    const badSize = Buffer.from(full);
    badSize.write('0000000009x', 124, 'latin1');
    expect((await failure(archive(badSize, 'size.jsonl.zst.tar'))).message).toMatch(/bad tar header \(size field "0000000009x"\)/);
    const badJson = archive(
      tar([
        { name: 'ok.zst', data: member },
        { name: 'bad.zst', data: zst('{"text": "x"}\n{oops}\n') },
      ]),
      'badjson.jsonl.zst.tar',
    );
    const error = await failure(badJson);
    expect(error.message).toMatch(/badjson\.jsonl\.zst\.tar:bad\.zst \(line 2, decompressed byte 14\): invalid JSON/);
    const badZstd = Buffer.from(
      tar([
        { name: 'ok.zst', data: member },
        { name: 'bad.zst', data: member },
      ]),
    );
    const secondData = 512 + 512 * Math.ceil(member.length / 512) + 512;
    badZstd[secondData] ^= 0xff; // magic of the second member's frame
    const zstdError = await failure(archive(badZstd, 'badzstd.jsonl.zst.tar'));
    expect(zstdError.message).toBe(`${tmp()}/badzstd.jsonl.zst.tar:bad.zst (byte ${secondData}): not zstd data (frame magic 0xfd2fb5d7)`);
  });

  it('corrupt zstd data: a CorpusError naming the file and the frame, after the records of the frames before it', async () => {
    const good = zst(jsonl(...Array.from({ length: 300 }, (_, i) => ({ text: `문서 ${i} `.repeat(1 + (i % 7)) }))));
    const first = zst(jsonl({ text: 'first frame' }));
    let located = 0;
    for (let i = 6; i < good.length; i += 5) {
      const bad = Buffer.from(good);
      bad[i] ^= 0xa5;
      const path = archive(Buffer.concat([first, bad]));
      const seen: unknown[] = [];
      const error = await (async () => {
        for await (const text of streamData(path)) seen.push(text);
      })().catch((e: unknown) => e);
      if (error === undefined) continue; // a flipped literal can decode to other valid text: zstd without a checksum cannot tell
      expect(error, `flip at ${i}`).toBeInstanceOf(CorpusError);
      expect((error as CorpusError).file).toBe(path);
      expect(seen[0]).toBe('first frame');
      if ((error as CorpusError).message.includes(`corrupt zstd data in the frame that starts at byte ${first.length}`)) {
        expect((error as CorpusError).byteOffset).toBe(first.length);
        located++;
      }
    }
    expect(located).toBeGreaterThan(0);
  });

  it('structural corruption is named with its byte: bad magic, reserved bit, reserved block type, dictionary, huge window', async () => {
    const payload = Buffer.from(jsonl({ text: 'x' }));
    const cases: [Buffer, string][] = [
      [Buffer.concat([zst(payload), Buffer.from('garbage!')]), `(byte ${zst(payload).length}): not zstd data (frame magic 0x62726167)`],
      [rawFrame(payload, { descriptorBits: 0x08 }), '(byte 4): corrupt zstd frame header (reserved bit set)'],
      [Buffer.concat([rawFrame(Buffer.alloc(0)).subarray(0, 6), Buffer.from([0x07, 0, 0])]), '(byte 6): corrupt zstd block (reserved block type)'],
      [rawFrame(payload, { dictId: 9 }), '(byte 0): zstd frame needs dictionary 9, which this reader does not have'],
      [rawFrame(payload, { windowExponent: 18 }), "(byte 0): zstd frame needs a 268435456-byte window (more than libzstd's default limit of 128 MiB)"],
    ];
    for (const [bytes, message] of cases) {
      const path = archive(bytes);
      expect((await failure(path)).message).toBe(`${path} ${message}`);
    }
  });

  it('a truncated zstd stream is an error naming the frame it cuts into, never a silently short corpus', async () => {
    const whole = zst(jsonl(...Array.from({ length: 50 }, (_, i) => ({ text: `문서 ${i}` }))));
    for (const keep of [1, 4, 5, 8, Math.floor(whole.length / 2), whole.length - 1]) {
      const path = archive(whole.subarray(0, keep));
      const error = await failure(path);
      expect(error.message, `keep ${keep}`).toMatch(
        keep < 4 ? /stray byte/ : new RegExp(`\\(byte ${keep}\\): truncated zstd stream: the data ends inside the frame that starts at byte 0$`),
      );
    }
    const first = zst(jsonl({ text: '앞' }));
    const path = archive(Buffer.concat([first, whole.subarray(0, 40)]));
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const text of streamData(path, { chunkSize: 16 })) seen.push(text);
    })().catch((e: unknown) => e);
    expect(seen[0]).toBe('앞');
    expect((error as CorpusError).message).toBe(
      `${path} (byte ${first.length + 40}): truncated zstd stream: the data ends inside the frame that starts at byte ${first.length}`,
    );
    const checksumCut = archive(rawFrame(Buffer.from(jsonl({ text: 'x' })), { checksum: true }).subarray(0, -2));
    expect((await failure(checksumCut)).message).toMatch(/truncated zstd stream/);
  });

  it('bad lines: invalid UTF-8, invalid JSON, blank and whitespace lines, null, non-objects, no "text" — each names line and decompressed byte', async () => {
    const cases: [string, Buffer | string, string][] = [
      [
        'utf8',
        Buffer.concat([Buffer.from('{"text": "ok"}\n{"text": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
        '(line 2, decompressed byte 25): invalid UTF-8 (byte 0xc3)',
      ],
      ['json', '{"text": "ok"}\n{"text": "ok"\n', '(line 2, decompressed byte 15): invalid JSON ('],
      ['blank', '{"text": "ok"}\n\n{"text": "ok"}\n', '(line 2, decompressed byte 15): blank line: every line of a JSON-lines archive must hold a JSON object'],
      ['spaces', '{"text": "ok"}\n  \r\n', '(line 2, decompressed byte 15): blank line'],
      ['null', 'null\n', '(line 1, decompressed byte 0): the line is JSON null, not an object'],
      ['array', '["text"]\n', '(line 1, decompressed byte 0): expected a JSON object {"text": …, "meta": …}, found an array'],
      ['string', '"text"\n', '(line 1, decompressed byte 0): expected a JSON object {"text": …, "meta": …}, found string'],
      ['notext', '{"text": "ok"}\n{"meta": {}}\n', '(line 2, decompressed byte 15): the JSON object has no "text" key'],
      ['nan-word', '{"text": "ok", "meta": {"score": NaNa}}\n', '(line 1, decompressed byte 0): invalid JSON ('],
      ['nan-key', '{"text": "ok", "meta": {NaN: 1}}\n', '(line 1, decompressed byte 0): invalid JSON ('],
    ];
    for (const [name, content, message] of cases) {
      const path = archive(zst(content), `${name}.jsonl.zst`);
      const error = await failure(path);
      expect(error.message.startsWith(`${path} ${message}`), `${name}: ${error.message}`).toBe(true);
      expect(error.decompressed).toBe(true);
    }
    const joined = archive(zst(jsonl({ text: ['a', 1] })));
    expect((await failure(joined, { autojoinSentences: true })).message).toBe(
      `${joined} (line 1): cannot join the sentences of "text": the list holds a non-string`,
    );
    expect(await collect(streamData(joined))).toEqual([['a', 1]]);
  });
});
