export * from './image.js';
export * from './partition-change.js';
export * from './partition-registration.js';
export * from './placement.js';
export * from './records.js';
