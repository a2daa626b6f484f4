/**
 * Injected time source (STYLE.md §6): handlers, sessions and reapers read time only through this,
 * so tests and simulations can drive time themselves. One Clock for the whole process, defined in
 * @gregor/protocol and shared with storage (its background tasks and timers) and the client.
 */
export { type Clock, sleepOn, systemClock, type TimerHandle } from '@gregor/protocol';
