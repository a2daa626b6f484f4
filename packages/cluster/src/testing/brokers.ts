/** Broker registrations and simulated-time driving for the controller's store-backed tests. */
import type { BrokerSession, MetadataStore } from '@gregor/metadata';
import { encodeBrokerRegistration } from '../records.js';

export function registerTestBroker(
  store: MetadataStore,
  brokerId: number,
  options: { ttlMs: number; rack?: string | null; previousBrokerEpoch?: bigint },
): Promise<BrokerSession> {
  return store.registerBroker(
    brokerId,
    encodeBrokerRegistration({
      brokerId,
      incarnationId: `incarnation-${brokerId}-${Math.random().toString(36).slice(2)}`,
      rack: options.rack ?? null,
      listeners: [
        {
          name: 'PLAINTEXT',
          host: '127.0.0.1',
          port: 9000 + brokerId,
          securityProtocol: 'PLAINTEXT',
        },
      ],
      previousBrokerEpoch: options.previousBrokerEpoch ?? -1n,
    }),
    { ttlMs: options.ttlMs },
  );
}

/** A clock the test moves (the metadata package's SimulatedClock fits). */
export interface DrivenClock {
  advance(durationMs: number): Promise<void>;
}

/**
 * Moves simulated time in steps until `promise` settles, then returns its value (or throws its
 * error); fails past `limitMs` of simulated time.
 */
export async function drive<T>(
  clock: DrivenClock,
  promise: Promise<T>,
  options: { stepMs?: number; limitMs?: number } = {},
): Promise<T> {
  const stepMs = options.stepMs ?? 10;
  const limitMs = options.limitMs ?? 30_000;
  let outcome: { value: T } | { error: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  for (let elapsedMs = 0; outcome === undefined; elapsedMs += stepMs) {
    if (elapsedMs > limitMs)
      throw new Error(`did not settle within ${limitMs} ms of simulated time`);
    await clock.advance(stepMs);
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** Advances simulated time until `condition` holds (checked after each step). */
export async function driveUntil(
  clock: DrivenClock,
  condition: () => boolean,
  options: { stepMs?: number; limitMs?: number; what?: string } = {},
): Promise<void> {
  const stepMs = options.stepMs ?? 10;
  const limitMs = options.limitMs ?? 30_000;
  for (let elapsedMs = 0; !condition(); elapsedMs += stepMs) {
    if (elapsedMs > limitMs)
      throw new Error(`${options.what ?? 'condition'} not met within ${limitMs} ms`);
    await clock.advance(stepMs);
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs` of real time. */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every `intervalMs` of real time until it holds or `timeoutMs` passes. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
