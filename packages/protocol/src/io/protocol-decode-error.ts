/** Why a frame could not be decoded. Every decoder failure maps to exactly one reason. */
export type ProtocolDecodeErrorReason =
  | 'truncated'
  | 'negative-length'
  | 'oversized-length'
  | 'invalid-value'
  | 'trailing-bytes'
  | 'unsupported-version'
  | 'unknown-api';

/**
 * A malformed or unsupported frame. Thrown inside the decoders and caught by the frame helpers,
 * which return it in a `DecodeResult`; it never escapes the top-level frame API.
 */
export class ProtocolDecodeError extends Error {
  readonly reason: ProtocolDecodeErrorReason;
  /** Byte offset in the frame where decoding stopped. */
  readonly offset: number;

  constructor(reason: ProtocolDecodeErrorReason, offset: number, detail?: string) {
    super(
      detail === undefined
        ? `${reason} at byte ${offset}`
        : `${reason} at byte ${offset}: ${detail}`,
    );
    this.name = 'ProtocolDecodeError';
    this.reason = reason;
    this.offset = offset;
  }
}
