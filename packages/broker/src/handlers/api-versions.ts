/**
 * ApiVersions (key 18), v0-v4. Advertises exactly the registered handlers (BROKER-LAYOUT.md).
 * A request with a version above ours is answered by the server with a v0 body carrying
 * UNSUPPORTED_VERSION and this same list (KIP-511), see server/request-router.ts.
 */
import {
  ApiKey,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  ErrorCode,
} from '@gregor/protocol';
import type { ApiHandler } from './types.js';

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The version ranges of `list`, sorted by API key. */
export function advertisedApis(list: readonly ApiHandler[]): AdvertisedApi[] {
  return list
    .map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }))
    .sort((left, right) => left.apiKey - right.apiKey);
}

export function apiVersionsBody(
  errorCode: number,
  apis: readonly AdvertisedApi[],
): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: apis.map((api) => ({ ...api })),
    throttleTimeMs: 0,
  } as ApiVersionsResponse;
}

/**
 * The successful answer for each advertised list, built once: every client's first request is
 * ApiVersions, so a storm of thousands of new connections would otherwise copy the whole list
 * once per connection. Frozen because every connection shares it.
 */
const successBodies = new WeakMap<readonly AdvertisedApi[], ApiVersionsResponse>();

export function successfulApiVersionsBody(apis: readonly AdvertisedApi[]): ApiVersionsResponse {
  let body = successBodies.get(apis);
  if (body === undefined) {
    const built = apiVersionsBody(ErrorCode.NONE, apis);
    for (const api of built.apiKeys) Object.freeze(api);
    Object.freeze(built.apiKeys);
    body = Object.freeze(built);
    successBodies.set(apis, body);
  }
  return body;
}

/** KIP-511: client software name and version, as Kafka validates them (v3+). */
const softwarePattern = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export const apiVersionsHandler: ApiHandler<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(request, context) {
    if (
      context.apiVersion >= 3 &&
      (!softwarePattern.test(request.clientSoftwareName ?? '') ||
        !softwarePattern.test(request.clientSoftwareVersion ?? ''))
    ) {
      return apiVersionsBody(ErrorCode.INVALID_REQUEST, []);
    }
    return successfulApiVersionsBody(context.services.supportedApis);
  },
};
