import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak, type SoakSample, slope } from '../harness/soak.js';
import { benchDirectory } from '../tools/rdkafka-performance.js';
import { soakCsv, soakSvg } from '../tools/soak-report.js';

/**
 * `npm run bench -- soak [--duration-minutes 60] [--sample-seconds 5] [--rate 1000]`: one broker
 * under a steady load with retention, compaction and a consumer group all active (harness/soak.ts),
 * sampled every few seconds. Writes .bench/soak.csv and .bench/soak.svg (written as the run goes,
 * so a long run can be looked at before it ends) and prints the trends after the warm-up.
 */

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    'duration-minutes': { type: 'string', default: '60' },
    'sample-seconds': { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
  },
  allowPositionals: true,
});
const durationMs = Number(options['duration-minutes']) * 60_000;
const sampleIntervalMs = Number(options['sample-seconds']) * 1000;
const recordsPerSecond = Number(options.rate);
/** Samples before this share of the run are warm-up (heap growth, first segments, cleaner start). */
const warmUpFraction = 0.2;

await mkdir(benchDirectory, { recursive: true });
const csvPath = join(benchDirectory, 'soak.csv');
const svgPath = join(benchDirectory, 'soak.svg');
const title = `Gregor soak: ${recordsPerSecond} records/s acks=all + compacted topic + consumer group, ${options['duration-minutes']} min`;
const loads: number[] = [];
const taken: SoakSample[] = [];
let lastWrittenMs = 0;

const result = await runSoak({
  durationMs,
  sampleIntervalMs,
  recordsPerSecond,
  onSample: (sample) => {
    taken.push(sample);
    loads.push(loadavg()[0]!);
    if (performance.now() - lastWrittenMs > 60_000) {
      lastWrittenMs = performance.now();
      void writeFile(csvPath, soakCsv(taken));
      void writeFile(svgPath, soakSvg(taken, title));
    }
    console.log(
      `${sample.elapsedSeconds.toFixed(0)} s: RSS ${sample.residentMegabytes.toFixed(1)} MB, fds ${sample.fileDescriptors}, segments ${sample.segmentFiles}, event loop p99 ${sample.eventLoopDelayP99Ms.toFixed(1)} ms, e2e p99 ${sample.endToEndP99Ms.toFixed(0)} ms, produce p99 ${sample.produceP99Ms.toFixed(0)} ms, consumed ${sample.consumed}/${sample.produced}`,
    );
  },
});
await writeFile(csvPath, soakCsv(result.samples));
await writeFile(svgPath, soakSvg(result.samples, title));

const settled = result.samples.filter(
  (sample) => sample.elapsedSeconds >= (durationMs / 1000) * warmUpFraction,
);
const times = settled.map((sample) => sample.elapsedSeconds / 3600);
const trend = (field: keyof SoakSample) =>
  slope(
    times,
    settled.map((sample) => sample[field]),
  );
const range = (field: keyof SoakSample) => {
  const values = settled.map((sample) => sample[field]);
  return `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;
};
const median = (values: number[]) =>
  values.sort((left, right) => left - right)[values.length >> 1] ?? 0;
console.log(`\nafter the warm-up (${settled.length} samples):`);
console.log(
  `  RSS ${range('residentMegabytes')} MB, trend ${trend('residentMegabytes').toFixed(2)} MB/hour`,
);
console.log(
  `  file descriptors ${range('fileDescriptors')}, trend ${trend('fileDescriptors').toFixed(2)}/hour`,
);
console.log(`  segment files ${range('segmentFiles')}`);
console.log(
  `  end-to-end p99 per interval ${range('endToEndP99Ms')} ms (median ${median(settled.map((sample) => sample.endToEndP99Ms)).toFixed(0)} ms), trend ${trend('endToEndP99Ms').toFixed(2)} ms/hour`,
);
console.log(`  event-loop delay p99 per interval ${range('eventLoopDelayP99Ms')} ms`);
console.log(`  acknowledged ${result.acknowledged}, never consumed ${result.missing.length}`);
console.log(
  `  machine load average (1 min) median ${median(loads.slice()).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
);
console.log(`  ${csvPath}\n  ${svgPath}`);
if (result.missing.length > 0) process.exitCode = 1;
