import { describe, expect, it } from 'vitest';
import {
  bytesFeature,
  bytesValues,
  decodeExample,
  type Example,
  emptyFeature,
  encodeExample,
  type Feature,
  floatFeature,
  floatValues,
  int64Feature,
  int64Values,
} from '../../lib/tfrecord/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytesOf = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p.replace(/\s+/g, ''), 'hex') : Buffer.from(p))));
/** A length-delimited field: tag byte, one-byte length, body (all bodies here are < 128 bytes). */
const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag, body.length]), body]);
/** Example{features{feature{key, value: <featureBody>}}} built by hand from example.proto/feature.proto. */
const exampleWith = (entries: [string, Buffer][]): Buffer =>
  field(0x0a, Buffer.concat(entries.map(([key, featureBody]) => field(0x0a, Buffer.concat([field(0x0a, Buffer.from(key)), field(0x12, featureBody)])))));

describe('encodeExample: bytes worked out by hand from the .proto files', () => {
  it('int64 list: Example{features{feature{key:"a" value{int64_list{value:[1]}}}}}', () => {
    // 0a 0c Features | 0a 0a map entry | 0a 01 "a" | 12 05 Feature | 1a 03 Int64List | 0a 01 packed [01]
    expect(hex(encodeExample(new Map([['a', int64Feature([1])]])))).toBe('0a0c0a0a0a016112051a030a0101');
  });

  it('float list: packed little-endian float32 (1.5 = 0x3fc00000)', () => {
    expect(hex(encodeExample(new Map([['f', floatFeature([1.5])]])))).toBe(hex(exampleWith([['f', bytesOf('12 06 0a 04 0000c03f')]])));
  });

  it('bytes list: repeated field 1, empty strings kept', () => {
    expect(hex(encodeExample(new Map([['b', bytesFeature(['hi', ''])]])))).toBe(hex(exampleWith([['b', bytesOf('0a 06 0a 02 6869 0a 00')]])));
  });

  it('negative int64: the 10-byte two’s-complement varint', () => {
    expect(hex(encodeExample(new Map([['n', int64Feature([-1])]])))).toBe(hex(exampleWith([['n', bytesOf('1a 0c 0a 0a ffffffffffffffffff01')]])));
  });

  it('int64 beyond 2^31 and beyond 2^53: the same varints as 64-bit arithmetic', () => {
    // 17031080100 = 0x3F72E62A4; 2^53 + 1; 2^63 - 1 (nine 7-bit groups of ones)
    const varint = (v: bigint): number[] => {
      const out: number[] = [];
      let x = BigInt.asUintN(64, v);
      do {
        const low = Number(x & 0x7fn);
        x >>= 7n;
        out.push(x > 0n ? low | 0x80 : low);
      } while (x > 0n);
      return out;
    };
    const values = [17031080100n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    const packed = values.flatMap(varint);
    const expected = exampleWith([['v', Buffer.concat([Buffer.from([0x1a, packed.length + 2, 0x0a, packed.length]), Buffer.from(packed)])]]);
    expect(hex(encodeExample(new Map([['v', int64Feature([17031080100, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)])]])))).toBe(hex(expected));
  });

  it('an empty Feature {} and empty lists: the list message is present (and empty) so its kind survives', () => {
    const example = new Map<string, Feature>([
      ['e', emptyFeature()],
      ['i', int64Feature([])],
      ['f', floatFeature([])],
      ['b', bytesFeature([])],
    ]);
    const expected = exampleWith([
      ['b', bytesOf('0a 00')],
      ['e', Buffer.alloc(0)],
      ['f', bytesOf('12 00')],
      ['i', bytesOf('1a 00')],
    ]);
    expect(hex(encodeExample(example))).toBe(hex(expected));
    expect(decodeExample(expected)).toEqual(
      new Map([
        ['b', bytesFeature([])],
        ['e', { kind: 'none' }],
        ['f', floatFeature([])],
        ['i', int64Feature([])],
      ]),
    );
  });

  it('keys in code-point (UTF-8 byte) order, not UTF-16 order, whatever the insertion order', () => {
    const keys = ['😀', 'b', '\uE000', 'B', 'a', '', 'ab'];
    const example = new Map(keys.map((k, i) => [k, int64Feature([i])]));
    const decoded = decodeExample(encodeExample(example));
    // U+E000 sorts before U+1F600 by code point, although its UTF-16 unit is higher than the surrogate's.
    expect([...decoded.keys()]).toEqual(['', 'B', 'a', 'ab', 'b', '\uE000', '😀']);
    const shuffled = new Map([...example].reverse());
    expect(hex(encodeExample(shuffled))).toBe(hex(encodeExample(example)));
  });

  it('refuses an int64 it cannot write exactly', () => {
    const bad: [string, unknown][] = [
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['2^60 as a number', 2 ** 60],
      ['2^63 as a bigint', 2n ** 63n],
      ['a string', '7'],
    ];
    for (const [, value] of bad) expect(() => encodeExample(new Map([['x', { kind: 'int64List', value: [value as number] }]]))).toThrow(/int64 feature "x"/);
    // The failed call left nothing behind in the shared writer.
    expect(hex(encodeExample(new Map([['a', int64Feature([1])]])))).toBe('0a0c0a0a0a016112051a030a0101');
  });

  it('floats keep their float32 bits: NaN, ±Infinity, -0, subnormals', () => {
    const values = Float32Array.from([Number.NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38, Math.fround(0.1)]);
    const decoded = floatValues(decodeExample(encodeExample(new Map([['f', floatFeature(values)]]))), 'f');
    expect(hex(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength))).toBe(hex(new Uint8Array(values.buffer)));
  });
});

describe('decodeExample: what TensorFlow (or any protobuf writer) may produce', () => {
  it('unpacked repeated int64 and float (legal protobuf), mixed with packed runs, in order', () => {
    // int64_list{value:1 value:300 value:[2,3] packed}; float_list{value:1.5 (fixed32) value:[2.5] packed}
    const fixedInts = Buffer.concat([Buffer.from([0x1a, 0x09]), bytesOf('08 01 08 ac02 0a 02 02 03')]);
    const floats = Buffer.concat([Buffer.from([0x12, 0x0b]), bytesOf('0d 0000c03f 0a 04 00002040')]);
    const decoded = decodeExample(
      exampleWith([
        ['i', fixedInts],
        ['f', floats],
      ]),
    );
    expect(decoded.get('i')).toEqual(int64Feature([1, 300, 2, 3]));
    expect(floatValues(decoded, 'f')).toEqual(Float32Array.from([1.5, 2.5]));
  });

  it('skips unknown fields at every level (varint, fixed64, fixed32, length-delimited)', () => {
    const unknowns = bytesOf('48 05', '51 0102030405060708', '5d 01020304', '62 02 abcd'); // fields 9–12
    const list = Buffer.concat([unknowns, bytesOf('0a 01 07')]);
    const feature = Buffer.concat([unknowns, field(0x1a, list)]);
    const entry = Buffer.concat([unknowns, field(0x0a, Buffer.from('k')), unknowns, field(0x12, feature)]);
    const features = Buffer.concat([unknowns, field(0x0a, entry)]);
    const example = Buffer.concat([unknowns, field(0x0a, features), unknowns]);
    expect(decodeExample(example)).toEqual(new Map([['k', int64Feature([7])]]));
  });

  it('a list field that appears twice is merged (concatenated); a later kind replaces an earlier one', () => {
    const twice = bytesOf('1a 03 0a 01 01', '1a 03 0a 01 02');
    const switched = bytesOf('0a 03 0a 01 78', '1a 03 0a 01 05');
    const decoded = decodeExample(
      exampleWith([
        ['twice', twice],
        ['switched', switched],
      ]),
    );
    expect(decoded.get('twice')).toEqual(int64Feature([1, 2]));
    expect(decoded.get('switched')).toEqual(int64Feature([5]));
  });

  it('the last map entry for a key wins; Features repeated are merged', () => {
    const first = exampleWith([
      ['k', bytesOf('1a 03 0a 01 01')],
      ['other', bytesOf('1a 03 0a 01 09')],
    ]);
    const second = exampleWith([['k', bytesOf('1a 03 0a 01 02')]]);
    const decoded = decodeExample(Buffer.concat([first, second]));
    expect(decoded.get('k')).toEqual(int64Feature([2]));
    expect(decoded.get('other')).toEqual(int64Feature([9]));
  });

  it('any key order decodes to the same Example and re-encodes to the same bytes', () => {
    const a = exampleWith([
      ['x', bytesOf('1a 03 0a 01 01')],
      ['y', bytesOf('0a 03 0a 01 41')],
    ]);
    const b = exampleWith([
      ['y', bytesOf('0a 03 0a 01 41')],
      ['x', bytesOf('1a 03 0a 01 01')],
    ]);
    const [da, db] = [decodeExample(a), decodeExample(b)];
    expect(new Map([...da].sort())).toEqual(new Map([...db].sort()));
    expect(hex(encodeExample(da))).toBe(hex(encodeExample(db)));
  });

  it('no bytes is an empty Example; an entry without a value is an empty Feature', () => {
    expect(decodeExample(new Uint8Array(0)).size).toBe(0);
    expect(decodeExample(field(0x0a, field(0x0a, field(0x0a, Buffer.from('k')))))).toEqual(new Map([['k', { kind: 'none' }]]));
  });

  it('int64: safe integers as numbers, everything else exact as bigint', () => {
    const values = [0, 1, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 17031080100, Number.MAX_SAFE_INTEGER, -1, -(2 ** 31), Number.MIN_SAFE_INTEGER];
    const wide = [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)];
    const feature = decodeExample(encodeExample(new Map([['v', int64Feature([...values, ...wide])]]))).get('v');
    const decoded = feature?.kind === 'int64List' ? Array.from(feature.value) : [];
    expect(decoded).toEqual([...values, ...wide]);
    expect(decoded.map((v) => typeof v)).toEqual([...values.map(() => 'number'), ...wide.map(() => 'bigint')]);
  });

  it('bytes values are copies that do not alias the input', () => {
    const input = exampleWith([['b', bytesOf('0a 04 0a 02 6869')]]);
    const [value] = bytesValues(decodeExample(input), 'b');
    input.fill(0);
    expect(Buffer.from(value).toString()).toBe('hi');
  });
});

describe('decodeExample: malformed input is an error that says so', () => {
  const good = encodeExample(
    new Map<string, Feature>([
      ['ids', int64Feature([1, 300, -5, 2 ** 40])],
      ['w', floatFeature([0.5, 1])],
      ['t', bytesFeature(['text'])],
    ]),
  );

  it('every truncation of a valid Example is rejected', () => {
    for (let cut = 1; cut < good.length; cut++) expect(() => decodeExample(good.subarray(0, cut)), `cut at ${cut}`).toThrow(/^malformed tf\.train\.Example/);
  });

  it.each([
    [
      'a packed float list that is not whole float32s',
      exampleWith([['w', bytesOf('12 05 0a 03 000000')]]),
      /in feature "w": FloatList: packed value of 3 bytes/,
    ],
    ['a truncated packed varint', exampleWith([['i', bytesOf('1a 03 0a 01 80')]]), /in feature "i": .*premature EOF/],
    ['an invalid wire type', bytesOf('0f 00'), /illegal tag/],
    ['a length beyond the end', bytesOf('0a 7f 00'), /premature EOF/],
    ['a varint longer than 10 bytes', exampleWith([['i', bytesOf('1a 0d 0a 0b ffffffffffffffffffff01')]]), /in feature "i": .*invalid varint/],
    [
      'a key that is not UTF-8',
      field(0x0a, field(0x0a, Buffer.concat([field(0x0a, Buffer.from([0xff, 0xfe])), field(0x12, Buffer.alloc(0))]))),
      /^malformed tf\.train\.Example \(10 bytes\): .*utf-8/i,
    ],
  ])('%s', (_, bytes, message) => {
    expect(() => decodeExample(bytes)).toThrow(message);
  });
});

describe('constructors and accessors', () => {
  const example: Example = new Map<string, Feature>([
    ['ids', int64Feature(Int32Array.from([5, 6]))],
    ['w', floatFeature([0.1])],
    ['t', bytesFeature(['한국어', new Uint8Array([0, 255])])],
    ['missing', emptyFeature()],
  ]);

  it('an Int32Array is kept without a copy and encodes exactly as the same numbers do', () => {
    const ids = Int32Array.from([0, 1, 127, 128, 300, 2 ** 31 - 1, -1, -(2 ** 31)]);
    const feature = int64Feature(ids);
    expect(feature.kind === 'int64List' && feature.value).toBe(ids);
    const fromTyped = encodeExample(new Map([['ids', feature]]));
    expect(hex(fromTyped)).toBe(hex(encodeExample(new Map([['ids', int64Feature(Array.from(ids))]]))));
    expect(int64Values(decodeExample(fromTyped), 'ids')).toEqual(Array.from(ids));
  });

  it('build lists from typed arrays and strings (UTF-8)', () => {
    expect(int64Values(example, 'ids')).toEqual([5, 6]);
    expect(floatValues(example, 'w')[0]).toBe(Math.fround(0.1));
    expect(bytesValues(example, 't').map((b) => [...b])).toEqual([[...Buffer.from('한국어')], [0, 255]]);
  });

  it('read an empty Feature as no values, and name the key and kinds when it is missing or different', () => {
    expect(int64Values(example, 'missing')).toEqual([]);
    expect(floatValues(example, 'missing')).toEqual(new Float32Array(0));
    expect(() => int64Values(example, 'nope')).toThrow('feature "nope": expected an int64 list, found nothing');
    expect(() => floatValues(example, 'ids')).toThrow('feature "ids": expected a float list, found int64List');
    expect(() => bytesValues(example, 'w')).toThrow('feature "w": expected a bytes list, found floatList');
    expect(() => int64Values(new Map([['big', int64Feature([2n ** 60n])]]), 'big')).toThrow(
      'feature "big": 1152921504606846976 does not fit a JavaScript number',
    );
  });
});
