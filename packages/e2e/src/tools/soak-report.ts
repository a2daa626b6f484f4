import type { SoakSample } from '../harness/soak.js';

/** The samples as CSV, one column per SoakSample field, a header line first. */
export function soakCsv(samples: readonly SoakSample[]): string {
  if (samples.length === 0) return '';
  const columns = Object.keys(samples[0]!) as (keyof SoakSample)[];
  const lines = [columns.join(',')];
  for (const sample of samples) {
    lines.push(columns.map((column) => Number(sample[column].toFixed(3))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

interface Panel {
  title: string;
  unit: string;
  series: { field: keyof SoakSample; color: string; label: string }[];
}

const panels: Panel[] = [
  {
    title: 'broker RSS',
    unit: 'MB',
    series: [
      { field: 'residentMegabytes', color: '#1f77b4', label: 'RSS' },
      { field: 'heapUsedMegabytes', color: '#9467bd', label: 'V8 heap used' },
    ],
  },
  {
    title: 'broker file descriptors and segment files',
    unit: 'count',
    series: [
      { field: 'fileDescriptors', color: '#2ca02c', label: 'open fds' },
      { field: 'segmentFiles', color: '#8c564b', label: 'segment files' },
    ],
  },
  {
    title: 'broker event-loop delay (worst per interval)',
    unit: 'ms',
    series: [
      { field: 'eventLoopDelayP99Ms', color: '#ff7f0e', label: 'p99' },
      { field: 'eventLoopDelayMaxMs', color: '#d62728', label: 'max' },
    ],
  },
  {
    title: 'client latency per interval',
    unit: 'ms',
    series: [
      { field: 'endToEndP99Ms', color: '#17becf', label: 'end-to-end p99' },
      { field: 'endToEndP50Ms', color: '#7f7f7f', label: 'end-to-end p50' },
      { field: 'produceP99Ms', color: '#bcbd22', label: 'produce acks=all p99' },
    ],
  },
];

const width = 900;
const panelHeight = 200;
const margin = { left: 60, right: 20, top: 30, bottom: 30 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A self-contained SVG: one panel per measure, time in minutes on the x axis. */
export function soakSvg(samples: readonly SoakSample[], title: string): string {
  const height = panels.length * (panelHeight + margin.top + margin.bottom) + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin.left}" y="18" font-size="14">${escapeXml(title)}</text>`,
  ];
  const endSeconds = Math.max(1, ...samples.map((sample) => sample.elapsedSeconds));
  const plotWidth = width - margin.left - margin.right;
  panels.forEach((panel, index) => {
    const top = 30 + index * (panelHeight + margin.top + margin.bottom) + margin.top;
    const values = panel.series.flatMap((series) => samples.map((sample) => sample[series.field]));
    const maxValue = Math.max(1, ...values) * 1.1;
    const x = (seconds: number) => margin.left + (seconds / endSeconds) * plotWidth;
    const y = (value: number) => top + panelHeight - (value / maxValue) * panelHeight;
    parts.push(
      `<text x="${margin.left}" y="${top - 8}" font-size="12">${escapeXml(`${panel.title} (${panel.unit})`)}</text>`,
      `<rect x="${margin.left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#ccc"/>`,
    );
    for (const fraction of [0, 0.5, 1]) {
      const value = (maxValue / 1.1) * fraction;
      parts.push(
        `<text x="${margin.left - 6}" y="${y(value) + 4}" text-anchor="end">${Number(value.toPrecision(3))}</text>`,
      );
    }
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const seconds = endSeconds * fraction;
      parts.push(
        `<text x="${x(seconds)}" y="${top + panelHeight + 14}" text-anchor="middle">${(seconds / 60).toFixed(1)} min</text>`,
      );
    }
    panel.series.forEach((series, seriesIndex) => {
      const points = samples
        .map(
          (sample) =>
            `${x(sample.elapsedSeconds).toFixed(1)},${y(sample[series.field]).toFixed(1)}`,
        )
        .join(' ');
      parts.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="1.5" points="${points}"/>`,
        `<text x="${margin.left + 10 + seriesIndex * 170}" y="${top + 14}" fill="${series.color}">${escapeXml(series.label)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
