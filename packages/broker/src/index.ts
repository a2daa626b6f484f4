export * from './clock.js';
export { handlers } from './handlers/index.js';
export * from './handlers/types.js';
export * from './logging/logger.js';
export * from './services.js';
export * from './topics/types.js';
