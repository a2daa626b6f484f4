export * from './etcd-store.js';
export * from './local-store.js';
export { NodeFaults } from './memory-client.js';
export * from './simulated-store.js';
export * from './store.js';
