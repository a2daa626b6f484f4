/**
 * `max.connections.per.ip.overrides`: a comma-separated list of ADDRESS:COUNT, the per-address
 * connection limit for the addresses named (Kafka's format; the count follows the last colon, so
 * IPv6 addresses need no brackets). Deliberate difference: Kafka also takes host names and
 * resolves them once; Gregor takes IP addresses only and says so at start-up.
 */
import { isIP, SocketAddress } from 'node:net';
import type { ConfigValidator, ConfigValue } from './config-types.js';

const allowed = 'a comma-separated list of IP:COUNT with COUNT an integer >= 0';

export function perAddressOverridesValidator(): ConfigValidator {
  return {
    allowed,
    check(value: ConfigValue) {
      if (typeof value !== 'string') return allowed;
      try {
        parsePerAddressOverrides(value);
        return undefined;
      } catch (error) {
        return `${allowed}; ${(error as Error).message}`;
      }
    },
  };
}

/** Address (normalized, see `normalizeAddress`) → most connections from it. Throws on bad input. */
export function parsePerAddressOverrides(text: string): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const colon = entry.lastIndexOf(':');
    const address =
      colon < 0
        ? ''
        : entry
            .slice(0, colon)
            .trim()
            .replace(/^\[(.*)\]$/, '$1');
    const countText = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (isIP(address) === 0) throw new Error(`"${entry}" does not start with an IP address`);
    if (!/^\d+$/.test(countText) || Number(countText) > 0x7fff_ffff)
      throw new Error(`"${entry}" does not end with a connection count`);
    overrides.set(normalizeAddress(address), Number(countText));
  }
  return overrides;
}

/**
 * The form sockets report (`socket.remoteAddress`): IPv6 in canonical compressed lower case
 * (2001:db8::1), IPv4-mapped IPv6 (::ffff:127.0.0.1 or ::ffff:7f00:1) as plain IPv4. Any spelling
 * of one address gives the same key, as Kafka compares addresses, not text.
 */
export function normalizeAddress(address: string): string {
  if (isIP(address) !== 6) return address.toLowerCase();
  const canonical = new SocketAddress({ address, family: 'ipv6' }).address;
  const mapped = canonical.startsWith('::ffff:') ? canonical.slice(7) : '';
  return isIP(mapped) === 4 ? mapped : canonical;
}
