import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { DT_DOUBLE, DT_FLOAT, decodeEvent, encodeEvent, scalarPoints, type TfEvent, tensorScalarValue } from '../../lib/tensorboard/index.js';

describe('Event encoding', () => {
  it('round-trips file_version, simple values, tensors and metadata', () => {
    const events: TfEvent[] = [
      { wallTime: 1700000000.5, step: 0, fileVersion: 'brain.Event:2' },
      { wallTime: 1.25, step: 12, summary: [{ tag: 'loss', simpleValue: 0.5 }, { tag: 'zero', simpleValue: 0 }, { tag: '' }] },
      {
        wallTime: 2,
        step: -3,
        summary: [
          {
            tag: 't',
            tensor: { dtype: DT_FLOAT, shape: [2, 1], content: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), floatVal: [0.25], doubleVal: [1e-300] },
            metadata: { pluginName: 'scalars', pluginContent: Uint8Array.of(9), dataClass: 1 },
          },
        ],
      },
      { wallTime: 0, step: 0 },
    ];
    for (const event of events) expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it('writes the same bytes as protobuf for a simple event (fields in number order, defaults left out)', () => {
    const bytes = encodeEvent({ wallTime: 0.5, step: 1, summary: [{ tag: 'a', simpleValue: 0 }] });
    // 09 <double 0.5> 10 01 2a 0a (0a 08 (0a 01 'a' 15 <float 0>))
    expect(Buffer.from(bytes).toString('hex')).toBe(['09', '000000000000e03f', '1001', '2a0a', '0a08', '0a0161', '1500000000'].join(''));
  });

  it('refuses an event holding both a file_version and a summary', () => {
    expect(() => encodeEvent({ wallTime: 1, step: 1, fileVersion: 'x', summary: [] })).toThrow(/not both/);
  });
});

describe('Event decoding', () => {
  it('skips unknown fields and other kinds of event and value; reads unpacked number lists; merges repeated summaries', () => {
    const w = new BinaryWriter();
    w.tag(99, WireType.Varint).uint32(7); // unknown
    w.tag(1, WireType.Bit64).double(3.5);
    w.tag(2, WireType.Varint).int64(2n ** 40n);
    w.tag(5, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string('unpacked');
    w.tag(8, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).int32(DT_FLOAT);
    w.tag(5, WireType.Bit32).float(1.5); // float_val, not packed
    w.tag(77, WireType.LengthDelimited).bytes(Uint8Array.of(1, 2)); // unknown
    w.join();
    w.join();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string('histo');
    w.tag(5, WireType.LengthDelimited).bytes(Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0, 0)); // HistogramProto
    w.join();
    w.join();
    w.tag(5, WireType.LengthDelimited).fork(); // a second Summary: its values are appended
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string('later');
    w.tag(2, WireType.Bit32).float(2);
    w.join();
    w.join();
    w.tag(10, WireType.LengthDelimited).bytes(Uint8Array.of(0x0a, 0x01, 0x78)); // source_metadata
    const event = decodeEvent(w.finish());
    expect(event).toEqual({
      wallTime: 3.5,
      step: 2 ** 40,
      summary: [{ tag: 'unpacked', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [1.5] } }, { tag: 'histo' }, { tag: 'later', simpleValue: 2 }],
    });
    expect(scalarPoints(event).map((p) => [p.tag, p.value])).toEqual([
      ['unpacked', 1.5],
      ['later', 2],
    ]);

    const graph = new BinaryWriter().tag(1, WireType.Bit64).double(1).tag(4, WireType.LengthDelimited).bytes(Uint8Array.of(1)).finish();
    expect(decodeEvent(graph)).toEqual({ wallTime: 1, step: 0 });
  });

  it('throws on malformed bytes', () => {
    expect(() => decodeEvent(Uint8Array.of(0x2a, 0x10, 0x01))).toThrow();
  });

  it('the value of a tensor: one float or double element; none holds zero; anything else is not a scalar', () => {
    expect(tensorScalarValue({ dtype: DT_FLOAT, shape: [], floatVal: [0.5] })).toBe(0.5);
    expect(tensorScalarValue({ dtype: DT_FLOAT, shape: [1, 1], content: new Uint8Array(Float32Array.of(-2).buffer) })).toBe(-2);
    expect(tensorScalarValue({ dtype: DT_DOUBLE, shape: [], content: new Uint8Array(Float64Array.of(0.1).buffer) })).toBe(0.1);
    expect(tensorScalarValue({ dtype: DT_DOUBLE, shape: [] })).toBe(0);
    expect(tensorScalarValue({ dtype: DT_FLOAT, shape: [2], floatVal: [1, 2] })).toBeUndefined();
    expect(tensorScalarValue({ dtype: DT_FLOAT, shape: [], content: Uint8Array.of(1, 2) })).toBeUndefined();
    expect(tensorScalarValue({ dtype: 3, shape: [] })).toBeUndefined();
  });
});
