/**
 * Splits a Kafka byte stream into frames ([int32 size][size bytes]) without trusting the size:
 * frames above `frameBytesMax` are reported as oversized instead of being buffered.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly frameBytesMax: number;

  constructor(options: { frameBytesMax: number }) {
    this.frameBytesMax = options.frameBytesMax;
  }

  /** Appends `chunk` and returns every complete frame body (without the size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Buffer[] = [];
    while (this.pendingBytes >= 4) {
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.frameBytesMax) {
        throw new Error(`frame size ${size} outside 0..${this.frameBytesMax}`);
      }
      if (this.pendingBytes < 4 + size) break;
      const whole = this.take(4 + size);
      frames.push(whole.subarray(4));
    }
    return frames;
  }

  private peek(byteCount: number): Buffer {
    if (this.pending[0].length >= byteCount) return this.pending[0].subarray(0, byteCount);
    return Buffer.concat(this.pending).subarray(0, byteCount);
  }

  private take(byteCount: number): Buffer {
    const joined = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const taken = joined.subarray(0, byteCount);
    const rest = joined.subarray(byteCount);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return taken;
  }
}
