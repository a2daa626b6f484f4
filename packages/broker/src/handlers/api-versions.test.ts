import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@gregor/protocol';
import { type AdvertisedApi, successfulApiVersionsBody } from './api-versions.js';

describe('ApiVersions answer shared by every connection', () => {
  const apis: readonly AdvertisedApi[] = [
    { apiKey: 0, minVersion: 3, maxVersion: 11 },
    { apiKey: 18, minVersion: 0, maxVersion: 4 },
  ];

  it('is built once per advertised list and carries exactly that list', () => {
    const first = successfulApiVersionsBody(apis);
    const second = successfulApiVersionsBody(apis);
    assert.equal(second, first);
    assert.deepEqual(first, {
      errorCode: ErrorCode.NONE,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 0,
    });
    const other = successfulApiVersionsBody([{ apiKey: 3, minVersion: 0, maxVersion: 12 }]);
    assert.notEqual(other, first);
    assert.deepEqual(other.apiKeys, [{ apiKey: 3, minVersion: 0, maxVersion: 12 }]);
  });

  it('cannot be changed by one request for the next ones', () => {
    const body = successfulApiVersionsBody(apis);
    assert.throws(() => {
      body.apiKeys[0]!.maxVersion = 99;
    }, TypeError);
    assert.throws(() => {
      body.apiKeys.push({ apiKey: 1, minVersion: 4, maxVersion: 17 });
    }, TypeError);
    assert.deepEqual(successfulApiVersionsBody(apis).apiKeys[0], {
      apiKey: 0,
      minVersion: 3,
      maxVersion: 11,
    });
  });
});
