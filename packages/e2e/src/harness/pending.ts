/**
 * Broker features the end-to-end tests need that have not landed yet. A test that depends on one
 * runs as node:test `todo` (reported, never silently skipped) until the feature lands and the
 * marker is removed.
 */
export const pendingFeature = {
  brokerCli: 'the broker CLI (`gregor broker`) has not landed yet',
} as const;
