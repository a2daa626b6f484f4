import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak, slope } from './harness/soak.js';

/**
 * The short soak: one minute of acks=all produce, a compacted topic and a consumer group, with
 * retention deleting segments every few seconds. After a 20 s warm-up the broker's RSS and file
 * descriptors must not trend upwards beyond what a minute of noise explains (the hour-long run
 * is `npm run bench -- soak`), and every acknowledged record reaches the group.
 */
test('soak: RSS and file descriptors stay flat under produce, compaction, retention and a group', async () => {
  const result = await runSoak({
    durationMs: 60_000,
    sampleIntervalMs: 2_000,
    recordsPerSecond: 500,
  });
  assert.ok(result.acknowledged >= 5_000, `only ${result.acknowledged} records acknowledged`);
  assert.deepEqual(result.missing.slice(0, 10), [], 'acknowledged records the group never saw');

  const settled = result.samples.filter((sample) => sample.elapsedSeconds >= 20);
  assert.ok(settled.length >= 10, `${settled.length} samples after the warm-up`);
  const minutes = settled.map((sample) => sample.elapsedSeconds / 60);
  const residentTrend = slope(
    minutes,
    settled.map((sample) => sample.residentMegabytes),
  );
  const descriptorTrend = slope(
    minutes,
    settled.map((sample) => sample.fileDescriptors),
  );
  const descriptors = settled.map((sample) => sample.fileDescriptors);
  const details = JSON.stringify(
    settled.map((sample) => [
      sample.elapsedSeconds,
      Math.round(sample.residentMegabytes),
      sample.fileDescriptors,
      sample.segmentFiles,
    ]),
  );
  assert.ok(
    residentTrend < 40,
    `RSS grows ${residentTrend.toFixed(1)} MB/min after the warm-up: ${details}`,
  );
  assert.ok(
    descriptorTrend < 20,
    `fds grow ${descriptorTrend.toFixed(1)}/min after the warm-up: ${details}`,
  );
  assert.ok(
    Math.max(...descriptors) - Math.min(...descriptors) <= 40,
    `fds range ${Math.min(...descriptors)}–${Math.max(...descriptors)}: ${details}`,
  );
  // Retention and compaction keep the number of segment files bounded.
  const segments = settled.map((sample) => sample.segmentFiles);
  assert.ok(
    Math.max(...segments) - Math.min(...segments) <= 40,
    `segment files ${Math.min(...segments)}–${Math.max(...segments)}: ${details}`,
  );
});
