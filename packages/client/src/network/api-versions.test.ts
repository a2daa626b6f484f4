import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeRequestFrame,
  fetchApi,
  metadataApi,
  produceApi,
  saslHandshakeApi,
  txnOffsetCommitApi,
} from '@gregor/protocol';
import { ApiVersionTable, UnsupportedVersionError } from './api-versions.js';
import { clientMaxVersion, encodeRequest, layoutVersion } from './version-aliases.js';

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
    // Produce: v12 through its alias of v11's layout; v13 (topic ids) is not used.
    assert.equal(table.version(produceApi), 12);
    assert.equal(table.finalizedFeatures.get('transaction.version'), 2);
  });

  it('fails with the two ranges when there is no common version', () => {
    assert.throws(() => table.version(metadataApi), UnsupportedVersionError);
    assert.throws(() => table.version(saslHandshakeApi), /does not support SaslHandshake/);
    assert.throws(() => table.version(fetchApi, 12), /broker v4-7, client v12-17/);
  });
});

describe('version aliases (Kafka 4.0 versions equal to older layouts)', () => {
  it('encodes Produce v12 as v11 with a v12 header, and nothing beyond', () => {
    const header = { requestApiKey: 0, requestApiVersion: 12, correlationId: 7, clientId: 'c' };
    const body = { transactionalId: 'tx', acks: -1, timeoutMs: 1000, topicData: [] };
    const v12 = Buffer.concat(encodeRequest(produceApi, header, body));
    const v11 = Buffer.concat(encodeRequestFrame({ ...header, requestApiVersion: 11 }, body));
    assert.equal(v12.readInt16BE(6), 12);
    v12.writeInt16BE(11, 6);
    assert.deepEqual(v12, v11);
    assert.equal(layoutVersion(txnOffsetCommitApi, 5), 4);
    assert.equal(clientMaxVersion(produceApi), 12);
    assert.throws(() => layoutVersion(produceApi, 13), RangeError);
  });
});
