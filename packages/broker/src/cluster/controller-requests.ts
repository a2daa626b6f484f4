/**
 * The cluster paths of the admin handlers: the request goes to the controller as it came (served
 * by this broker when it is the controller, forwarded otherwise) and its answer is relayed.
 * NOT_CONTROLLER (no controller known in time, or a forwarded request reaching a broker that is
 * no longer the controller) answers the handler's error response, which clients retry.
 */
import { type Controller, NotControllerError } from '@gregor/cluster';
import { ErrorCode } from '@gregor/protocol';
import type { ApiHandler, RequestContext } from '../handlers/types.js';
import type { ClusterNode } from './cluster-node.js';
import { forwardedClientId } from './controller-channel.js';

/** How long a write waits for this broker's image to show it before answering anyway. */
const imageWaitMs = 5000;

export async function viaController<Request, Response>(
  cluster: ClusterNode,
  handler: ApiHandler<Request, Response>,
  request: Request,
  context: RequestContext,
  local: (controller: Controller) => Promise<Response>,
): Promise<Response> {
  try {
    return await cluster.channel.send<Response>({
      apiKey: handler.apiKey,
      apiVersion: context.apiVersion,
      request,
      local,
      forwarded: isForwarded(context),
    });
  } catch (error) {
    if (error instanceof NotControllerError && handler.errorResponse !== undefined) {
      return handler.errorResponse(request, ErrorCode.NOT_CONTROLLER, context.apiVersion);
    }
    throw error;
  }
}

/** A request another broker forwarded to this one as the controller. */
export function isForwarded(context: RequestContext): boolean {
  return context.header.clientId === forwardedClientId;
}

/**
 * After a write the client asked this broker for: waits (bounded) until this broker's image shows
 * it, so the client's next Metadata here sees what it just created or deleted.
 */
export async function waitForTopicsShown(
  cluster: ClusterNode,
  names: readonly string[],
  present: boolean,
): Promise<void> {
  if (names.length === 0) return;
  await cluster.waitForImage(
    (image) => names.every((name) => (image.topic(name) !== undefined) === present),
    imageWaitMs,
  );
}
