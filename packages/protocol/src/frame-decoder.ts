/**
 * Splits a TCP byte stream into Kafka request frames: `[int32 size][size bytes]`.
 * The size is checked against `frameSizeBytesMax` BEFORE any of the body is buffered
 * (STYLE.md §2), so a hostile 2 GiB prefix costs four bytes. A frame that sits inside one
 * received chunk is returned as a `subarray` (no copy); a frame spanning chunks is copied once.
 */
export class FrameSizeError extends Error {
  readonly sizeBytes: number;
  constructor(sizeBytes: number, frameSizeBytesMax: number) {
    super(
      sizeBytes < 0
        ? `negative frame size ${sizeBytes}`
        : `frame size ${sizeBytes} exceeds the maximum ${frameSizeBytesMax} (socket.request.max.bytes)`,
    );
    this.name = 'FrameSizeError';
    this.sizeBytes = sizeBytes;
  }
}

export interface FrameDecoderOptions {
  frameSizeBytesMax: number;
}

const sizePrefixBytes = 4;

export class FrameDecoder {
  private readonly frameSizeBytesMax: number;
  private readonly chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed. */
  private headOffset = 0;
  private buffered = 0;
  /** Size of the frame whose prefix was read, or -1 while waiting for a prefix. */
  private pendingFrameSize = -1;

  constructor(options: FrameDecoderOptions) {
    this.frameSizeBytesMax = options.frameSizeBytesMax;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame (without its size prefix), or null if more bytes are needed. Throws FrameSizeError. */
  next(): Buffer | null {
    if (this.pendingFrameSize < 0) {
      if (this.buffered < sizePrefixBytes) return null;
      const size = this.take(sizePrefixBytes).readInt32BE(0);
      if (size < 0 || size > this.frameSizeBytesMax) {
        throw new FrameSizeError(size, this.frameSizeBytesMax);
      }
      this.pendingFrameSize = size;
    }
    if (this.buffered < this.pendingFrameSize) return null;
    const frame = this.take(this.pendingFrameSize);
    this.pendingFrameSize = -1;
    return frame;
  }

  /** Removes `length` bytes from the front; `buffered >= length` must hold. */
  private take(length: number): Buffer {
    this.buffered -= length;
    const head = this.chunks[0];
    if (head !== undefined && head.length - this.headOffset >= length) {
      const slice = head.subarray(this.headOffset, this.headOffset + length);
      this.headOffset += length;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
      return slice;
    }
    const out = Buffer.allocUnsafe(length);
    let written = 0;
    while (written < length) {
      const chunk = this.chunks[0]!;
      const available = chunk.length - this.headOffset;
      const count = Math.min(available, length - written);
      chunk.copy(out, written, this.headOffset, this.headOffset + count);
      written += count;
      this.headOffset += count;
      if (this.headOffset === chunk.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    return out;
  }
}
