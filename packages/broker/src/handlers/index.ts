/**
 * Every API the broker serves. ApiVersions advertises exactly this list.
 * To add an API: one import line and one array entry.
 */
import type { ApiHandler } from './types.js';

export const handlers: ApiHandler[] = [];
