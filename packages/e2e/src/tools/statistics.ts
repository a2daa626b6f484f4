/** The nearest-rank percentile of ascending `sorted` samples; `fraction` in (0, 1]. */
export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}
