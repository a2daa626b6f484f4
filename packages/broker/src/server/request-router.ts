/**
 * Turns one request frame into one response frame list: peeks the header, finds the handler,
 * checks the version, decodes, runs the handler, encodes. Malformed input throws ConnectionFault
 * (the connection closes with a logged reason); well-formed but unsupported requests get Kafka's
 * answers:
 * - unknown or unregistered API key: close (Kafka cannot parse such a header either);
 * - ApiVersions above our range: a v0 response with UNSUPPORTED_VERSION and our ranges (KIP-511);
 * - another API outside our range: the handler's error response with UNSUPPORTED_VERSION when the
 *   version can still be decoded and encoded, otherwise close.
 */
import {
  ApiKey,
  decodeRequestFrame,
  ErrorCode,
  encodeResponseFrame,
  getApiDescriptor,
  peekRequestHeader,
} from '@gregor/protocol';
import { apiVersionsBody } from '../handlers/api-versions.js';
import type { ApiHandler, RequestContext } from '../handlers/types.js';
import type { Logger } from '../logging/logger.js';
import type { BrokerServices } from '../services.js';
import {
  type Connection,
  ConnectionFault,
  type RequestDispatcher,
  type ResponseBudget,
  type ResponseFrames,
} from './connection.js';

export interface RequestRouterOptions {
  handlers: readonly ApiHandler[];
  services: BrokerServices;
  logger: Logger;
}

export class RequestRouter implements RequestDispatcher {
  private readonly byApiKey: (ApiHandler | undefined)[] = [];
  private readonly services: BrokerServices;
  private readonly logger: Logger;

  constructor(options: RequestRouterOptions) {
    for (const handler of options.handlers) this.byApiKey[handler.apiKey] = handler;
    this.services = options.services;
    this.logger = options.logger;
  }

  dispatch(
    frame: Buffer,
    connection: Connection,
    budget: ResponseBudget,
  ): ResponseFrames | Promise<ResponseFrames> {
    const peeked = peekRequestHeader(frame);
    if (peeked === null) {
      throw new ConnectionFault(
        `request of ${frame.length} bytes is shorter than a request header`,
      );
    }
    const { apiKey, apiVersion, correlationId } = peeked;
    const handler = this.byApiKey[apiKey];
    if (handler === undefined) {
      const name = getApiDescriptor(apiKey)?.name ?? 'unknown';
      throw new ConnectionFault(`unsupported API key ${apiKey} (${name}) version ${apiVersion}`);
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      return this.unsupportedVersion(frame, handler, apiVersion, correlationId);
    }
    const decoded = decodeRequestFrame(frame);
    if (!decoded.ok) {
      throw new ConnectionFault(
        `malformed ${apiName(apiKey)} v${apiVersion} request: ${decoded.error.message}`,
      );
    }
    const { header, body } = decoded.value;
    const clientId = header.clientId ?? null;
    if (connection.clientId === null) connection.clientId = clientId;
    const context: RequestContext = {
      apiVersion,
      header,
      connection: {
        id: connection.id,
        remoteAddress: connection.remoteAddress,
        clientId,
        listenerName: connection.listenerName,
        responseBudget: budget,
      },
      services: this.services,
    };
    if (this.logger.isEnabled('debug')) {
      this.logger.debug('request', {
        connectionId: connection.id,
        clientId,
        api: apiName(apiKey),
        apiVersion,
        correlationId,
      });
    }
    let result: unknown;
    try {
      result = handler.handle(body, context);
    } catch (error) {
      return this.handlerFailed(handler, body, context, error);
    }
    if (result instanceof Promise) {
      return result.then(
        (response) => this.encode(handler, context, response),
        (error) => this.handlerFailed(handler, body, context, error),
      );
    }
    return this.encode(handler, context, result);
  }

  private encode(handler: ApiHandler, context: RequestContext, response: unknown): ResponseFrames {
    if (response === undefined) return null;
    return encodeResponseFrame(
      handler.apiKey,
      context.apiVersion,
      context.header.correlationId,
      response,
    );
  }

  private handlerFailed(
    handler: ApiHandler,
    body: unknown,
    context: RequestContext,
    error: unknown,
  ): ResponseFrames {
    if (error instanceof ConnectionFault) throw error;
    this.logger.error('request handler failed', {
      api: apiName(handler.apiKey),
      apiVersion: context.apiVersion,
      clientId: context.header.clientId,
      connectionId: context.connection.id,
      error,
    });
    if (handler.errorResponse === undefined) {
      throw new ConnectionFault(`${apiName(handler.apiKey)} handler failed`);
    }
    return this.encode(
      handler,
      context,
      handler.errorResponse(body, ErrorCode.UNKNOWN_SERVER_ERROR, context.apiVersion),
    );
  }

  private unsupportedVersion(
    frame: Buffer,
    handler: ApiHandler,
    apiVersion: number,
    correlationId: number,
  ): ResponseFrames {
    if (handler.apiKey === ApiKey.ApiVersions) {
      // KIP-511: the client learns our range from a v0 body, whatever version it asked for.
      return encodeResponseFrame(
        ApiKey.ApiVersions,
        0,
        correlationId,
        // The same ranges ApiVersions advertises when it is supported (computed once at start).
        apiVersionsBody(ErrorCode.UNSUPPORTED_VERSION, this.services.supportedApis),
      );
    }
    const decoded = decodeRequestFrame(frame);
    if (decoded.ok && handler.errorResponse !== undefined) {
      const response = handler.errorResponse(
        decoded.value.body,
        ErrorCode.UNSUPPORTED_VERSION,
        apiVersion,
      );
      return encodeResponseFrame(handler.apiKey, apiVersion, correlationId, response);
    }
    throw new ConnectionFault(
      `unsupported ${apiName(handler.apiKey)} version ${apiVersion} (supported ${handler.minVersion}-${handler.maxVersion})`,
    );
  }
}

function apiName(apiKey: number): string {
  return getApiDescriptor(apiKey)?.name ?? `api ${apiKey}`;
}
