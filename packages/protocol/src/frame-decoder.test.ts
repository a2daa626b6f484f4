import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, FrameSizeError } from './frame-decoder.js';

function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

function drain(decoder: FrameDecoder): Buffer[] {
  const frames: Buffer[] = [];
  for (;;) {
    const next = decoder.next();
    if (next === null) return frames;
    frames.push(next);
  }
}

describe('FrameDecoder', () => {
  const bodies = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last')];
  const stream = Buffer.concat(bodies.map(frame));

  it('yields the same frames whatever the split point', () => {
    for (let split = 0; split <= stream.length; split++) {
      const decoder = new FrameDecoder({ frameSizeBytesMax: 1000 });
      decoder.push(stream.subarray(0, split));
      const frames = drain(decoder);
      decoder.push(stream.subarray(split));
      frames.push(...drain(decoder));
      assert.deepEqual(frames, bodies, `split at ${split}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  });

  it('yields the same frames fed one byte at a time', () => {
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1000 });
    const frames: Buffer[] = [];
    for (const byte of stream) {
      decoder.push(Buffer.from([byte]));
      frames.push(...drain(decoder));
    }
    assert.deepEqual(frames, bodies);
  });

  it('returns a frame inside one chunk without copying', () => {
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1000 });
    decoder.push(stream);
    const [first] = drain(decoder);
    assert.equal(first!.buffer, stream.buffer);
  });

  it('rejects a size above the maximum before buffering the body', () => {
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1000 });
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0x7fffffff);
    decoder.push(prefix);
    assert.throws(() => decoder.next(), FrameSizeError);
  });

  it('rejects a negative size', () => {
    const decoder = new FrameDecoder({ frameSizeBytesMax: 1000 });
    decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    assert.throws(
      () => decoder.next(),
      (error: unknown) => {
        assert.ok(error instanceof FrameSizeError);
        assert.equal(error.sizeBytes, -2);
        return true;
      },
    );
  });
});
