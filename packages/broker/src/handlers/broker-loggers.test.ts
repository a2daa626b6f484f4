/**
 * BROKER_LOGGER over a socket: DescribeConfigs lists this broker's loggers and levels, and
 * IncrementalAlterConfigs changes them while the broker runs (what the broker writes changes at
 * once), with Kafka's refusals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AlterConfigsResponse,
  ApiKey,
  type DescribeConfigsResponse,
  ErrorCode,
  type IncrementalAlterConfigsResponse,
} from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { ConfigSource } from '../config/index.js';
import { createJsonLogger } from '../logging/logger.js';
import { startTestBroker } from '../testing/requests.js';
import { TestClient } from '../testing/test-client.js';
import { ConfigOperation, ConfigResourceType } from './config-resources.js';

const { BROKER_LOGGER } = ConfigResourceType;
const { SET, DELETE, APPEND } = ConfigOperation;

describe('broker loggers (BROKER_LOGGER)', () => {
  const lines: { level: string; message: string; component?: string }[] = [];
  let broker: Broker;
  let stop: () => Promise<void>;
  let client: TestClient;
  let nodeName: string;

  before(async () => {
    const logger = createJsonLogger({
      level: 'info',
      write: (line) => lines.push(JSON.parse(line)),
    });
    ({ broker, stop } = await startTestBroker({}, { logger }));
    client = await TestClient.connect({ port: broker.port });
    nodeName = String(broker.services.nodeId);
  });
  after(async () => {
    await client.close();
    await stop();
  });

  const levels = async (): Promise<Map<string, string | null>> => {
    const response = await client.request<DescribeConfigsResponse>(ApiKey.DescribeConfigs, 4, {
      resources: [{ resourceType: BROKER_LOGGER, resourceName: nodeName, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const result = response.results[0]!;
    assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
    for (const entry of result.configs) {
      assert.equal(entry.configSource, ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG);
      assert.equal(entry.readOnly, false);
    }
    return new Map(result.configs.map((entry) => [entry.name, entry.value]));
  };

  const alter = (
    configs: { name: string; configOperation: number; value: string | null }[],
    options: { validateOnly?: boolean; resourceName?: string } = {},
  ) =>
    client
      .request<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [
          { resourceType: BROKER_LOGGER, resourceName: options.resourceName ?? nodeName, configs },
        ],
        validateOnly: options.validateOnly ?? false,
      })
      .then((response) => response.responses[0]!);

  const debugRequestLines = () =>
    lines.filter((line) => line.level === 'DEBUG' && line.message === 'request').length;

  it('lists root and every component logger at the start-up level', async () => {
    const described = await levels();
    assert.equal(described.get('root'), 'INFO');
    for (const name of ['server', 'topics', 'group-coordinator', 'transactions'])
      assert.equal(described.get(name), 'INFO', name);
    assert.equal([...described.keys()][0], 'root');
  });

  it('SET turns one logger to DEBUG at once, DELETE makes it follow root again', async () => {
    assert.equal(debugRequestLines(), 0);
    const set = await alter([{ name: 'server', configOperation: SET, value: 'DEBUG' }]);
    assert.equal(set.errorCode, ErrorCode.NONE, set.errorMessage ?? '');
    const described = await levels();
    assert.equal(described.get('server'), 'DEBUG');
    assert.equal(described.get('root'), 'INFO');
    assert.ok(debugRequestLines() > 0, 'the server logs each request at DEBUG');
    const deleted = await alter([{ name: 'server', configOperation: DELETE, value: null }]);
    assert.equal(deleted.errorCode, ErrorCode.NONE, deleted.errorMessage ?? '');
    const before = debugRequestLines();
    assert.equal((await levels()).get('server'), 'INFO');
    assert.equal(debugRequestLines(), before, 'no DEBUG lines once the level is back to INFO');
  });

  it('loggers without a level of their own follow root', async () => {
    const set = await alter([{ name: 'root', configOperation: SET, value: 'warn' }]);
    assert.equal(set.errorCode, ErrorCode.NONE);
    const described = await levels();
    assert.equal(described.get('root'), 'WARN');
    assert.equal(described.get('topics'), 'WARN');
    await alter([{ name: 'root', configOperation: SET, value: 'INFO' }]);
    assert.equal((await levels()).get('topics'), 'INFO');
  });

  it('refuses what Kafka refuses, and changes nothing when one entry is bad', async () => {
    const cases: [string, Parameters<typeof alter>[0], number, Parameters<typeof alter>[1]?][] = [
      [
        'an unknown logger',
        [{ name: 'no.such', configOperation: SET, value: 'DEBUG' }],
        ErrorCode.INVALID_CONFIG,
      ],
      [
        'an unknown level',
        [{ name: 'server', configOperation: SET, value: 'VERBOSE' }],
        ErrorCode.INVALID_CONFIG,
      ],
      [
        'a name plain objects inherit',
        [{ name: 'root', configOperation: SET, value: 'constructor' }],
        ErrorCode.INVALID_CONFIG,
      ],
      [
        'deleting root',
        [{ name: 'root', configOperation: DELETE, value: null }],
        ErrorCode.INVALID_REQUEST,
      ],
      [
        'APPEND',
        [{ name: 'server', configOperation: APPEND, value: 'DEBUG' }],
        ErrorCode.INVALID_REQUEST,
      ],
      [
        'one good and one bad entry',
        [
          { name: 'topics', configOperation: SET, value: 'DEBUG' },
          { name: 'server', configOperation: SET, value: 'LOUD' },
        ],
        ErrorCode.INVALID_CONFIG,
      ],
      [
        'another broker',
        [{ name: 'server', configOperation: SET, value: 'DEBUG' }],
        ErrorCode.INVALID_REQUEST,
        { resourceName: '99' },
      ],
    ];
    for (const [what, configs, errorCode, options] of cases) {
      const result = await alter(configs, options);
      assert.equal(result.errorCode, errorCode, what);
      assert.ok((result.errorMessage ?? '').length > 0, what);
    }
    const validated = await alter([{ name: 'topics', configOperation: SET, value: 'DEBUG' }], {
      validateOnly: true,
    });
    assert.equal(validated.errorCode, ErrorCode.NONE);
    const described = await levels();
    assert.equal(described.get('topics'), 'INFO');
    assert.equal(described.get('server'), 'INFO');
  });

  it('legacy AlterConfigs does not change broker loggers (as Kafka)', async () => {
    const response = await client.request<AlterConfigsResponse>(ApiKey.AlterConfigs, 2, {
      resources: [
        {
          resourceType: BROKER_LOGGER,
          resourceName: nodeName,
          configs: [{ name: 'server', value: 'DEBUG' }],
        },
      ],
      validateOnly: false,
    });
    assert.equal(response.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await levels()).get('server'), 'INFO');
  });
});
