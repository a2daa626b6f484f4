import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { CompressionCodec } from '@gregor/protocol';
import { compressSync as snappyRaw } from 'snappy';
import {
  defaultCompressionCodecs,
  lz4FrameOutputBound,
  zstdDecompressJs,
  zstdOutputBound,
  zstdStoredFrame,
} from './index.js';
import { snappyCodec, xerialFrame } from './snappy.js';

const fixtures = new URL('../fixtures/', import.meta.url);
const payload = readFileSync(new URL('payload.bin', fixtures));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', fixtures), 'utf8')) as {
  codecs: Record<string, { file: string }>;
};
const codecByName: Record<string, CompressionCodec> = {
  gzip: defaultCompressionCodecs[1]!,
  snappy: defaultCompressionCodecs[2]!,
  lz4: defaultCompressionCodecs[3]!,
  zstd: defaultCompressionCodecs[4]!,
};
const unbounded = { outputSizeBytesMax: 1 << 30 };

/** Deterministic bytes: a mix of runs and noise so every codec has something to find. */
function sampleBytes(sizeBytes: number, seed: number): Buffer {
  const buffer = Buffer.alloc(sizeBytes);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < sizeBytes; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    buffer[index] = (state >>> 0) % 7 === 0 ? state & 0xff : (index >> 4) & 0x3f;
  }
  return buffer;
}

describe('codecs decode bytes made by independent implementations', () => {
  for (const [name, entry] of Object.entries(manifest.codecs)) {
    const codec = codecByName[name.split('-')[0]];
    test(name, async () => {
      const compressed = readFileSync(new URL(entry.file, fixtures));
      if (codec.decompress) assert.ok(codec.decompress(compressed, unbounded).equals(payload));
      assert.ok((await codec.decompressAsync(compressed, unbounded)).equals(payload));
    });
  }
});

describe('codecs round trip', () => {
  for (const [name, codec] of Object.entries(codecByName)) {
    test(`${name}: sync and async, empty to 300 KiB`, async () => {
      for (const sizeBytes of [0, 1, 17, 4096, 65_537, 300_000]) {
        const plain = sampleBytes(sizeBytes, sizeBytes + 1);
        const compressed = codec.compress
          ? codec.compress(plain)
          : await codec.compressAsync(plain);
        const asyncCompressed = await codec.compressAsync(plain);
        if (codec.decompress) {
          assert.ok(codec.decompress(compressed, unbounded).equals(plain), `${name} ${sizeBytes}`);
        }
        const back = await codec.decompressAsync(asyncCompressed, unbounded);
        assert.ok(back.equals(plain), `${name} async ${sizeBytes}`);
      }
    });

    test(`${name}: output bound is enforced`, async () => {
      const plain = Buffer.alloc(200_000, 0x61);
      const compressed = await codec.compressAsync(plain);
      const bound = { outputSizeBytesMax: 10_000 };
      if (codec.decompress) assert.throws(() => codec.decompress!(compressed, bound));
      await assert.rejects(codec.decompressAsync(compressed, bound));
    });

    test(`${name}: garbage, truncation and flipped bytes never crash`, async () => {
      const plain = sampleBytes(20_000, 99);
      const compressed = await codec.compressAsync(plain);
      const inputs: Buffer[] = [
        Buffer.alloc(0),
        Buffer.from('not compressed at all'),
        sampleBytes(64, 5),
      ];
      for (let cut = 0; cut < compressed.length; cut += Math.max(1, compressed.length >> 5)) {
        inputs.push(compressed.subarray(0, cut));
      }
      for (
        let position = 0;
        position < compressed.length;
        position += Math.max(1, compressed.length >> 6)
      ) {
        const flipped = Buffer.from(compressed);
        flipped[position] ^= 0x5a;
        inputs.push(flipped);
      }
      for (const input of inputs) {
        for (const run of [
          async () => codec.decompress?.(input, { outputSizeBytesMax: 1 << 20 }),
          () => codec.decompressAsync(input, { outputSizeBytesMax: 1 << 20 }),
        ]) {
          try {
            const output = await run();
            if (output !== undefined) assert.ok(Buffer.isBuffer(output));
          } catch (error) {
            assert.ok(error instanceof Error, `${name} threw a non-Error`);
          }
        }
      }
    });
  }
});

describe('snappy framing', () => {
  test('encodes raw snappy (readable by every client) and decodes xerial with several blocks', () => {
    const plain = sampleBytes(100_000, 3);
    const raw = snappyCodec.compress!(plain);
    assert.notEqual(raw[0], 0x82);
    const framed = xerialFrame([
      snappyRaw(plain.subarray(0, 40_000)),
      snappyRaw(plain.subarray(40_000)),
    ]);
    assert.ok(snappyCodec.decompress!(framed, unbounded).equals(plain));
  });

  test('xerial block lengths that lie are refused', () => {
    const framed = xerialFrame([snappyRaw(Buffer.from('hello'))]);
    framed.writeInt32BE(1_000, 16);
    assert.throws(() => snappyCodec.decompress!(framed, unbounded));
    framed.writeInt32BE(-1, 16);
    assert.throws(() => snappyCodec.decompress!(framed, unbounded));
  });
});

describe('lz4 frame walk', () => {
  test('bound covers the real size and rejects trailing bytes', () => {
    const plain = sampleBytes(200_000, 8);
    const frame = defaultCompressionCodecs[3]!.compress!(plain);
    assert.ok(lz4FrameOutputBound(frame) >= plain.length);
    assert.throws(() => lz4FrameOutputBound(Buffer.concat([frame, Buffer.from([1])])));
  });
});

describe('zstd plain-JS decoder', () => {
  test('stops at the bound while streaming', async () => {
    const compressed = await defaultCompressionCodecs[4]!.compressAsync(Buffer.alloc(5_000_000));
    assert.throws(() => zstdDecompressJs(compressed, { outputSizeBytesMax: 1_000_000 }), /exceed/);
    assert.equal(zstdDecompressJs(compressed, unbounded).length, 5_000_000);
  });
});

describe('zstd frame walk', () => {
  test('bound covers every fixture and a multi-frame input', () => {
    for (const [name, entry] of Object.entries(manifest.codecs)) {
      if (!name.startsWith('zstd')) continue;
      const compressed = readFileSync(new URL(entry.file, fixtures));
      assert.ok(zstdOutputBound(compressed) >= payload.length, name);
    }
  });

  test('a bomb of RLE blocks is bounded exactly from its headers', async () => {
    const compressed = await defaultCompressionCodecs[4]!.compressAsync(Buffer.alloc(50_000_000));
    assert.ok(compressed.length < 10_000);
    assert.ok(zstdOutputBound(compressed) >= 50_000_000);
    await assert.rejects(
      defaultCompressionCodecs[4]!.decompressAsync(compressed, { outputSizeBytesMax: 1_000_000 }),
    );
  });

  test('malformed frames are refused', () => {
    assert.throws(() => zstdOutputBound(Buffer.alloc(0)));
    assert.throws(() => zstdOutputBound(Buffer.from('0123456789')));
    assert.throws(() => zstdOutputBound(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])));
  });
});

describe('zstd stored frames (sync compress on Node 20)', () => {
  test('native libzstd and the JS decoder read them, at every field-size boundary', async () => {
    const { decompress } = await import('@mongodb-js/zstd');
    for (const sizeBytes of [0, 1, 255, 256, 65_791, 65_792, 131_072, 131_073, 400_000]) {
      const plain = sampleBytes(sizeBytes, sizeBytes + 11);
      const frame = zstdStoredFrame(plain);
      assert.ok((await decompress(frame)).equals(plain), `native ${sizeBytes}`);
      assert.ok(zstdDecompressJs(frame, unbounded).equals(plain), `js ${sizeBytes}`);
      assert.ok(zstdOutputBound(frame) >= sizeBytes);
    }
  });
});
