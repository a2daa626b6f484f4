import { connect, type Socket } from 'node:net';
import { withDeadline } from './wait.js';

/**
 * A raw TCP connection for hostile-input tests: writes arbitrary bytes and reads size-prefixed
 * response frames, or observes the broker closing the connection.
 */
export class RawConnection {
  private readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private wake: () => void = () => {};
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(
    address: { host: string; port: number },
    options: { paused?: boolean } = {},
  ): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(address.port, address.host, () => {
        socket.off('error', reject);
        const connection = new RawConnection(socket);
        if (options.paused) socket.pause();
        resolve(connection);
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.closedFlag || this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** True while our side has more queued than the socket's high-water mark (peer not reading). */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Writes without waiting: for flooding a peer that does not read. Returns false once buffered. */
  writeNoWait(bytes: Buffer): boolean {
    if (this.closedFlag || this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  /** Half-closes (FIN) our side. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async readFrame(options: { timeoutMs: number }): Promise<Buffer> {
    const next = new Promise<Buffer>((resolve, reject) => {
      const check = () => {
        const frame = this.frames.shift();
        if (frame) resolve(frame);
        else if (this.closedFlag) reject(new Error('connection closed before a response frame'));
      };
      this.wake = check;
      check();
    });
    return withDeadline(next, { timeoutMs: options.timeoutMs, what: 'a response frame' });
  }

  /** True when the peer closed the connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    try {
      await withDeadline(this.closed, { timeoutMs, what: 'the broker to close the connection' });
      return true;
    } catch {
      return false;
    }
  }
}

/** Size-prefixes `body`. */
export function sizePrefixed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/**
 * Request header v1 (api key, version, correlation id, client id) — hand-built on purpose: the
 * hostile tests must be able to send versions and lengths the codecs would refuse to encode.
 */
export function requestHeaderV1(options: {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string;
}): Buffer {
  const clientId = Buffer.from(options.clientId, 'utf8');
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(options.apiKey, 0);
  header.writeInt16BE(options.apiVersion, 2);
  header.writeInt32BE(options.correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  return header;
}
