/**
 * `gregor broker` as a real child process: the ready line, serving a client, and a clean stop on
 * SIGTERM (exit 0, clean-shutdown marker written, data readable after a restart).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fetchRequest, metadataRequest, produceRequest } from '@gregor/broker/testing/requests';
import { recordBatch, TestClient } from '@gregor/broker/testing/test-client';
import {
  ApiKey,
  ErrorCode,
  type FetchResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '@gregor/protocol';

const mainPath = fileURLToPath(new URL('./main.js', import.meta.url));
const readyPattern =
  /^gregor: broker (\d+) ready on (\S+):(\d+)(?: \(advertised (\S+)\))? \(data (.+)\) in (\d+) ms$/m;

interface RunningBroker {
  child: ChildProcess;
  port: number;
  readyLine: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startBroker(directory: string, extra: string[] = []): Promise<RunningBroker> {
  const child = spawn(
    process.execPath,
    [mainPath, 'broker', '--listen', '127.0.0.1:0', '--data-dir', directory, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = readyPattern.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ child, port: Number(match[3]), readyLine: match[0], stderr: () => stderr, exited });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before ready; stderr: ${stderr}`));
    });
  });
}

describe('gregor broker (child process)', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gregor-cli-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('prints the ready line, serves, and stops cleanly on SIGTERM', async () => {
    const broker = await startBroker(directory);
    try {
      assert.match(broker.readyLine, /ready on 127\.0\.0\.1:\d+/);
      // A second broker on the same data dir refuses to start.
      const second = spawn(
        process.execPath,
        [mainPath, 'broker', '--listen', '127.0.0.1:0', '--data-dir', directory],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let secondError = '';
      second.stderr.on('data', (chunk) => {
        secondError += chunk;
      });
      assert.equal(await new Promise((resolve) => second.once('exit', resolve)), 1);
      assert.match(secondError, /another broker uses this log dir/);
      const client = await TestClient.connect({ port: broker.port });
      await client.request(ApiKey.Metadata, 12, metadataRequest(['cli-topic']));
      const produced = await client.request<ProduceResponse>(
        ApiKey.Produce,
        9,
        produceRequest({ topic: 'cli-topic', records: recordBatch({ count: 3 }) }),
      );
      assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
      // A long poll in flight when the signal arrives is answered, not dropped.
      const polling = client.request<FetchResponse>(
        ApiKey.Fetch,
        12,
        fetchRequest({ partitions: [{ topic: 'cli-topic', offset: 3n }], maxWaitMs: 20_000 }),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      broker.child.kill('SIGTERM');
      const answered = await polling;
      assert.equal(answered.responses[0]!.partitions[0]!.highWatermark, 3n);
      assert.equal(await broker.exited, 0);
      client.destroy();
    } finally {
      broker.child.kill('SIGKILL');
    }
    assert.ok(existsSync(join(directory, '.kafka_cleanshutdown')), 'clean-shutdown marker');
    assert.match(broker.stderr(), /"message":"broker stopped"/);

    const restarted = await startBroker(directory);
    try {
      const client = await TestClient.connect({ port: restarted.port });
      const fetched = await client.request<FetchResponse>(
        ApiKey.Fetch,
        12,
        fetchRequest({ partitions: [{ topic: 'cli-topic', offset: 0n }] }),
      );
      const partition = fetched.responses[0]!.partitions[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(partition.highWatermark, 3n);
      client.destroy();
      restarted.child.kill('SIGINT');
      assert.equal(await restarted.exited, 0);
    } finally {
      restarted.child.kill('SIGKILL');
    }
  });

  it('names the bound address first and the advertised one after it when they differ', async () => {
    const advertisedDirectory = await mkdtemp(join(tmpdir(), 'gregor-cli-advertised-'));
    const broker = await startBroker(advertisedDirectory, [
      '--override',
      'advertised.listeners=PLAINTEXT://broker.example.invalid:19092',
    ]);
    try {
      const match = readyPattern.exec(broker.readyLine)!;
      assert.equal(match[2], '127.0.0.1');
      assert.notEqual(broker.port, 19092);
      assert.equal(match[4], 'broker.example.invalid:19092');
      // The printed port is the one that accepts connections.
      const client = await TestClient.connect({ port: broker.port });
      const metadata = await client.request<MetadataResponse>(
        ApiKey.Metadata,
        12,
        metadataRequest([]),
      );
      assert.deepEqual(
        metadata.brokers.map((entry) => `${entry.host}:${entry.port}`),
        ['broker.example.invalid:19092'],
      );
      client.destroy();
      broker.child.kill('SIGTERM');
      assert.equal(await broker.exited, 0);
    } finally {
      broker.child.kill('SIGKILL');
      await rm(advertisedDirectory, { recursive: true, force: true });
    }
  });

  it('refuses bad flags and config values with a clear message', async () => {
    const child = spawn(
      process.execPath,
      [mainPath, 'broker', '--override', 'num.partitions=zero'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /num\.partitions/);
    const unknown = spawn(process.execPath, [mainPath, 'broker', '--bogus', '1'], {
      stdio: 'pipe',
    });
    assert.equal(await new Promise((resolve) => unknown.once('exit', resolve)), 2);
  });
});
