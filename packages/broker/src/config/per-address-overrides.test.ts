import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, parsePerAddressOverrides } from './per-address-overrides.js';

describe('max.connections.per.ip.overrides', () => {
  // Sockets report IPv6 canonical and compressed (2001:db8::1) and mapped IPv4 as ::ffff:a.b.c.d.
  const spellings: [override: string, reported: string][] = [
    ['127.0.0.1', '::ffff:127.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
  ];
  for (const [override, reported] of spellings) {
    it(`an override for ${override} applies to a socket reporting ${reported}`, () => {
      const overrides = parsePerAddressOverrides(`${override}:3`);
      assert.equal(overrides.get(normalizeAddress(reported)), 3);
    });
  }

  it('parses several entries and refuses host names, missing or bad counts', () => {
    assert.deepEqual(
      [...parsePerAddressOverrides(' 10.0.0.1:5, ::1:0 ,').entries()],
      [
        ['10.0.0.1', 5],
        ['::1', 0],
      ],
    );
    for (const bad of ['localhost:3', '10.0.0.1', '10.0.0.1:x', '10.0.0.1:-1', ':3'])
      assert.throws(() => parsePerAddressOverrides(bad), Error, bad);
  });
});
