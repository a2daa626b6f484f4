// kafkajs's instrumentation events: `client.on(client.events.X, listener)` returns a function that
// removes the listener; each event carries an id, its type, a timestamp and a payload.

import { EventEmitter } from 'node:events';

export interface InstrumentationEvent<Payload = unknown> {
  id: string;
  type: string;
  timestamp: number;
  payload: Payload;
}

let nextEventId = 0;

export class Instrumentation {
  private readonly emitter = new EventEmitter();

  constructor(private readonly known: ReadonlySet<string>) {
    this.emitter.setMaxListeners(0);
  }

  on(type: string, listener: (event: InstrumentationEvent) => void): () => void {
    if (!this.known.has(type)) {
      throw new TypeError(`Event name should be one of ${[...this.known].join(', ')}`);
    }
    const wrapped = (event: InstrumentationEvent) => {
      // A listener's failure must not break the client (kafkajs logs and goes on).
      Promise.resolve()
        .then(() => listener(event))
        .catch(() => undefined);
    };
    this.emitter.on(type, wrapped);
    return () => this.emitter.off(type, wrapped);
  }

  emit(type: string, payload: unknown = {}): void {
    if (this.emitter.listenerCount(type) === 0) return;
    this.emitter.emit(type, { id: String(nextEventId++), type, timestamp: Date.now(), payload });
  }
}
