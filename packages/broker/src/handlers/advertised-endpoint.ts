/**
 * The address this broker advertises to a client: the advertised listener with the name of the
 * listener its connection arrived on, as Kafka answers Metadata per listener name. A listener
 * left out of advertised.listeners has no address: Metadata lists no broker for it (and its
 * partitions LISTENER_NOT_FOUND), FindCoordinator answers COORDINATOR_NOT_AVAILABLE.
 */
import type { AdvertisedListener } from '../services.js';
import type { RequestContext } from './types.js';

export function advertisedEndpoint(context: RequestContext): AdvertisedListener | undefined {
  const { services, connection } = context;
  if (connection.listenerName === undefined) return services.advertisedListener;
  return services.advertisedListeners.get(connection.listenerName);
}
