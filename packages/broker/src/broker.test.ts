/**
 * Broker start-up over real sockets: what `Broker.start` takes from its options and from the
 * data dir.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiKey, ErrorCode, type IncrementalAlterConfigsResponse } from '@gregor/protocol';
import { Broker } from './broker.js';
import { ConfigSource } from './config/index.js';
import { silentLogger } from './logging/logger.js';
import { TestClient } from './testing/test-client.js';

const brokerResource = 4;
const setOperation = 0;

describe('Broker.start({ settings })', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gregor-broker-start-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    Broker.start({
      logger: silentLogger,
      settings: {
        'log.dirs': dataDir,
        listeners: 'PLAINTEXT://127.0.0.1:0',
        'log.retention.hours': 48,
      },
    });

  it('re-applies the dynamic broker settings saved by an earlier run, above the static settings', async () => {
    const first = await start();
    try {
      const client = await TestClient.connect({ port: first.port });
      try {
        const response = await client.request<IncrementalAlterConfigsResponse>(
          ApiKey.IncrementalAlterConfigs,
          1,
          {
            resources: [
              {
                resourceType: brokerResource,
                resourceName: '',
                configs: [
                  { name: 'log.retention.ms', configOperation: setOperation, value: '3600000' },
                ],
              },
            ],
            validateOnly: false,
          },
        );
        assert.equal(response.responses[0].errorCode, ErrorCode.NONE);
      } finally {
        await client.close();
      }
    } finally {
      await first.stop();
    }
    const second = await start();
    try {
      assert.equal(second.config.get('log.retention.ms'), 3_600_000);
      assert.equal(
        second.config.sourceOf('log.retention.ms'),
        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
      );
      assert.equal(second.config.get('log.retention.hours'), 48);
    } finally {
      await second.stop();
    }
  });
});
