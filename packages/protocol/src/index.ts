export * from './records/batch-header.js';
export * from './records/crc32c.js';
