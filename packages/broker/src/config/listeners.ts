/**
 * Kafka listener strings: `NAME://host:port` (host empty = every interface, IPv6 in brackets).
 * Gregor speaks PLAINTEXT only; listeners mapped to another security protocol are refused at
 * start-up instead of silently serving plaintext where the operator expected TLS or SASL.
 */
import type { ConfigValidator, ConfigValue } from './config-types.js';

export interface ListenerAddress {
  /** Listener name, upper case (PLAINTEXT, CONTROLLER, INTERNAL, ...). */
  readonly name: string;
  /** Host as written without brackets; '' binds every interface. */
  readonly host: string;
  /** 0 asks the operating system for a free port. */
  readonly port: number;
}

const listenerPattern = /^([A-Za-z][A-Za-z0-9_-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[^:/[\]\s]*):(\d{1,5})$/;
const portMax = 65535;

export function parseListener(text: string): ListenerAddress | undefined {
  const match = listenerPattern.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > portMax) return undefined;
  const rawHost = match[2];
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { name: match[1].toUpperCase(), host, port };
}

export function formatListener(listener: ListenerAddress): string {
  return `${listener.name}://${formatHostPort(listener)}`;
}

/** `host:port`, an IPv6 host in brackets (as `parseHostPort` reads it back). */
export function formatHostPort(address: { host: string; port: number }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** `host:port` (as given to `--listen`), host optional: ':9092', '9092', '[::1]:9092'. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const trimmed = text.trim();
  const onlyPort = /^\d{1,5}$/.test(trimmed);
  const listener = parseListener(onlyPort ? `X://:${trimmed}` : `X://${trimmed}`);
  return listener === undefined ? undefined : { host: listener.host, port: listener.port };
}

/** Validates a list of listener strings with distinct names. */
export function listenerListValidator(): ConfigValidator {
  const allowed = 'a comma-separated list of NAME://host:port with distinct names (port 0-65535)';
  return {
    allowed,
    check(value: ConfigValue) {
      if (!Array.isArray(value)) return allowed;
      const names = new Set<string>();
      for (const text of value) {
        const listener = parseListener(text);
        if (listener === undefined) return `${allowed}; cannot parse "${text}"`;
        if (names.has(listener.name)) return `${allowed}; "${listener.name}" appears twice`;
        names.add(listener.name);
      }
      return undefined;
    },
  };
}

/** Validates `listener.security.protocol.map` entries `NAME:PROTOCOL`. */
export function securityProtocolMapValidator(): ConfigValidator {
  const protocols = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
  const allowed = `a comma-separated list of NAME:PROTOCOL with PROTOCOL one of ${protocols.join(', ')}`;
  return {
    allowed,
    check(value: ConfigValue) {
      if (!Array.isArray(value)) return allowed;
      for (const entry of value) {
        const [name, protocol, extra] = entry.split(':');
        if (extra !== undefined || !name || !protocols.includes((protocol ?? '').toUpperCase())) {
          return `${allowed}; cannot use "${entry}"`;
        }
      }
      return undefined;
    },
  };
}

export function parseSecurityProtocolMap(entries: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of entries) {
    const [name, protocol] = entry.split(':');
    map.set(name.trim().toUpperCase(), protocol.trim().toUpperCase());
  }
  return map;
}
