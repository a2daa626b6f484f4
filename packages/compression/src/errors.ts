// Decompression failures. @gregor/protocol turns any codec error into CORRUPT_MESSAGE.

export class CompressionError extends Error {
  override readonly name = 'CompressionError';
}

/** The output would pass the caller's bound: refused before (or instead of) allocating it. */
export class OutputTooLargeError extends CompressionError {
  constructor(sizeBytes: number, outputSizeBytesMax: number) {
    super(
      `decompressed size ${sizeBytes} bytes may exceed the bound of ${outputSizeBytesMax} bytes`,
    );
  }
}
