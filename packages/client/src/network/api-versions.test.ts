import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchApi, metadataApi, produceApi, saslHandshakeApi } from '@gregor/protocol';
import { ApiVersionTable, UnsupportedVersionError } from './api-versions.js';

describe('ApiVersionTable', () => {
  const table = new ApiVersionTable({
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 3, maxVersion: 13 },
      { apiKey: 1, minVersion: 4, maxVersion: 7 },
      { apiKey: 3, minVersion: 20, maxVersion: 30 },
    ],
    finalizedFeatures: [{ name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 2 }],
  });

  it('chooses the highest version both sides speak', () => {
    assert.equal(table.version(fetchApi), 7);
    // Produce is capped by the client below its codecs' maximum (v12+ not implemented).
    assert.equal(table.version(produceApi), 11);
    assert.equal(table.finalizedFeatures.get('transaction.version'), 2);
  });

  it('fails with the two ranges when there is no common version', () => {
    assert.throws(() => table.version(metadataApi), UnsupportedVersionError);
    assert.throws(() => table.version(saslHandshakeApi), /does not support SaslHandshake/);
    assert.throws(() => table.version(fetchApi, 12), /broker v4-7, client v12-17/);
  });
});
