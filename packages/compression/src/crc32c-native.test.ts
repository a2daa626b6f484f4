import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  crc32c,
  crc32cSoftware,
  resetCrc32cImplementation,
  setCrc32cImplementation,
} from '@gregor/protocol';
import { installNativeCrc32c, nativeCrc32cThresholdBytes } from './crc32c-native.js';

describe('native CRC-32C', () => {
  test('installs and agrees with the JS reference on every range shape', () => {
    assert.equal(installNativeCrc32c(), true);
    try {
      const data = randomBytes(70_000);
      // RFC 3720 check value of "123456789".
      assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
      for (const length of [
        0,
        1,
        7,
        nativeCrc32cThresholdBytes - 1,
        nativeCrc32cThresholdBytes,
        4096,
        65_537,
      ]) {
        for (const start of [0, 1, 13]) {
          const end = start + length;
          for (const seed of [0, 0xdeadbeef]) {
            assert.equal(
              crc32c(data, start, end, seed),
              crc32cSoftware(data, start, end, seed),
              `${start}+${length}`,
            );
          }
        }
      }
      assert.equal(crc32c(data), crc32cSoftware(data));
    } finally {
      resetCrc32cImplementation();
    }
  });

  test('a wrong implementation is refused and the current one stays', () => {
    assert.throws(() => setCrc32cImplementation(() => 42), /disagrees/);
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});
