/**
 * Requests that only the controller may serve (topic and config writes, AlterPartition,
 * ElectLeaders, controlled shutdown). The active controller's broker serves them itself; any other
 * broker forwards the request over the wire to the controller broker's listener (the controller
 * named by the image's `controller` record) and relays its answer. A forwarded request carries
 * `forwardedClientId`: its receiver never forwards it again, it answers NOT_CONTROLLER instead.
 */
import { type Controller, type MetadataImage, NotControllerError } from '@gregor/cluster';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import { nodeTransport } from '../server/node-transport.js';
import { PeerConnection } from '../server/peer-connection.js';
import type { Transport } from '../server/transport.js';

export const forwardedClientId = 'gregor-controller-forward';
/** How long a request waits for a controller to be known and reachable. */
const controllerWaitMsDefault = 15_000;
const retryStepMs = 100;
const connectTimeoutMs = 3000;

export interface ControllerChannelOptions {
  nodeId: number;
  controller: () => Controller | undefined;
  image: () => MetadataImage;
  listenerName: string;
  clock: Clock;
  logger: Logger;
  /** The network to the controller's broker (node:net unless injected). */
  transport?: Transport;
}

export class ControllerChannel {
  private connection:
    | { controllerId: number; address: string; connection: PeerConnection }
    | undefined;
  private closed = false;

  constructor(private readonly options: ControllerChannelOptions) {}

  /** The active controller's id as this broker last saw it, -1 when none is known. */
  get controllerId(): number {
    if (this.options.controller()?.isActive === true) return this.options.nodeId;
    return this.options.image().controller?.controllerId ?? -1;
  }

  /**
   * Serves `local` when this broker is the active controller, else forwards the request (at
   * `apiVersion`) to the controller. Throws NotControllerError when `forwarded` (the request came
   * from another broker) and this broker is not the controller, or when no controller answered in
   * time.
   */
  async send<Response>(options: {
    apiKey: number;
    apiVersion: number;
    request: unknown;
    local: (controller: Controller) => Promise<Response>;
    forwarded: boolean;
    timeoutMs?: number;
  }): Promise<Response> {
    const deadlineMs =
      this.options.clock.monotonicMs() + (options.timeoutMs ?? controllerWaitMsDefault);
    for (;;) {
      const controller = this.options.controller();
      if (controller?.isActive === true) {
        try {
          return await options.local(controller);
        } catch (error) {
          if (!(error instanceof NotControllerError) || options.forwarded) throw error;
        }
      } else if (options.forwarded) {
        throw new NotControllerError(this.options.nodeId);
      } else {
        const remote = await this.connect().catch((error: unknown) => {
          this.options.logger.debug('the controller is not reachable', { error });
          return undefined;
        });
        if (remote !== undefined) {
          try {
            return await remote.request<Response>(
              options.apiKey,
              options.apiVersion,
              options.request,
              Math.max(1000, deadlineMs - this.options.clock.monotonicMs()),
            );
          } catch (error) {
            this.options.logger.debug('forwarding to the controller failed', { error });
          }
        }
      }
      if (this.closed || this.options.clock.monotonicMs() >= deadlineMs) {
        throw new NotControllerError(this.options.nodeId);
      }
      await new Promise<void>((resolve) => this.options.clock.schedule(retryStepMs, resolve));
    }
  }

  close(): void {
    this.closed = true;
    this.connection?.connection.close();
    this.connection = undefined;
  }

  private async connect(): Promise<PeerConnection | undefined> {
    const image = this.options.image();
    const controllerId = image.controller?.controllerId;
    if (controllerId === undefined || controllerId === this.options.nodeId) return undefined;
    const endpoint = image.brokerEndpoint(controllerId, this.options.listenerName);
    if (endpoint === undefined) return undefined;
    const address = `${endpoint.host}:${endpoint.port}`;
    const current = this.connection;
    if (
      current !== undefined &&
      current.controllerId === controllerId &&
      current.address === address &&
      !current.connection.isBroken
    ) {
      return current.connection;
    }
    current?.connection.close();
    this.connection = undefined;
    const connection = await PeerConnection.open({
      transport: this.options.transport ?? nodeTransport,
      clock: this.options.clock,
      host: endpoint.host,
      port: endpoint.port,
      clientId: forwardedClientId,
      timeoutMs: connectTimeoutMs,
    });
    if (this.closed) {
      connection.close();
      return undefined;
    }
    this.connection = { controllerId, address, connection };
    return connection;
  }
}
