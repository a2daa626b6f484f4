/**
 * The logging this package needs: structurally a subset of the broker's Logger, so a broker passes
 * its own (this package cannot import the broker, which builds on it).
 */
export type ClusterLogFields = Readonly<Record<string, unknown>>;

export interface ClusterLogger {
  debug(message: string, fields?: ClusterLogFields): void;
  info(message: string, fields?: ClusterLogFields): void;
  warn(message: string, fields?: ClusterLogFields): void;
  error(message: string, fields?: ClusterLogFields): void;
}

export const silentClusterLogger: ClusterLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
