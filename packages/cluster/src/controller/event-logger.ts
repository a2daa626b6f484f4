/**
 * The controller's logger for one event at a time, with a budget for partition change lines.
 * An event may change every partition of the cluster (leaders elected after a restart of all
 * brokers, a broker's leaderships moved away): one WARN line each would write 100,000 lines and
 * spend seconds of the controller's event loop formatting them. The first `partitionLinesMax`
 * partition changes of an event are written one by one; the rest are counted by reason and
 * written as one summary line when the event ends (`endEvent`). Unclean elections (records lost)
 * and every other line are always written.
 */
import type { ClusterLogFields, ClusterLogger } from '../logger.js';

/** Partition change lines written one by one per controller event. */
export const partitionLinesMaxDefault = 100;

export class EventLogger implements ClusterLogger {
  private written = 0;
  private readonly skippedByReason = new Map<string, number>();

  constructor(
    private readonly logger: ClusterLogger,
    private readonly partitionLinesMax = partitionLinesMaxDefault,
  ) {}

  debug(message: string, fields?: ClusterLogFields): void {
    this.logger.debug(message, fields);
  }

  info(message: string, fields?: ClusterLogFields): void {
    this.logger.info(message, fields);
  }

  error(message: string, fields?: ClusterLogFields): void {
    this.logger.error(message, fields);
  }

  warn(message: string, fields?: ClusterLogFields): void {
    this.logger.warn(message, fields);
  }

  /** A partition change's line, within the event's budget (an unclean election always). */
  partitionChange(
    message: string,
    fields: ClusterLogFields & { reason: string },
    options: { always?: boolean } = {},
  ): void {
    if (options.always === true || this.written < this.partitionLinesMax) {
      this.written++;
      this.logger.warn(message, fields);
      return;
    }
    this.skippedByReason.set(fields.reason, (this.skippedByReason.get(fields.reason) ?? 0) + 1);
  }

  /** Writes the summary of the lines the event's budget held back, and starts a new budget. */
  endEvent(): void {
    this.written = 0;
    if (this.skippedByReason.size === 0) return;
    const reasons = Object.fromEntries(this.skippedByReason);
    let skipped = 0;
    for (const count of this.skippedByReason.values()) skipped += count;
    this.skippedByReason.clear();
    const text = Object.entries(reasons)
      .map(([reason, count]) => `${count} ${reason}`)
      .join(', ');
    this.logger.warn(
      `${skipped} more partition changes (leader or ISR) of this controller event are not logged one by one: ${text}`,
      { skipped, reasons },
    );
  }
}

/** `logger`'s partition change line: budgeted when it is an EventLogger. */
export function logPartitionChangeLine(
  logger: ClusterLogger,
  message: string,
  fields: ClusterLogFields & { reason: string },
  options: { always?: boolean } = {},
): void {
  if (logger instanceof EventLogger) logger.partitionChange(message, fields, options);
  else logger.warn(message, fields);
}
