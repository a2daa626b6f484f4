export * from './records/batch-header.js';
export * from './records/compression.js';
export * from './records/control.js';
export * from './records/crc32c.js';
export * from './records/decode.js';
export * from './records/encode.js';
export * from './records/errors.js';
export * from './records/validate.js';
