/**
 * DescribeCluster (key 60), v0-1 (KIP-700; v1 endpoint types, KIP-919). One broker, which is also
 * the controller. Asking a broker listener for controller endpoints is UNSUPPORTED_ENDPOINT_TYPE,
 * as in Kafka. Without an authorizer every cluster operation is allowed.
 */
import {
  ApiKey,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
  ErrorCode,
} from '@gregor/protocol';
import { clusterBrokers } from '../cluster/image-answers.js';
import { advertisedEndpoint } from './advertised-endpoint.js';
import type { ApiHandler } from './types.js';

const EndpointType = { BROKER: 1, CONTROLLER: 2 } as const;
/** Kafka's "authorized operations not requested" marker. */
const operationsNotRequested = -2147483648;
/**
 * AclOperation bits of the cluster resource: CREATE(5), ALTER(7), DESCRIBE(8), CLUSTER_ACTION(9),
 * DESCRIBE_CONFIGS(10), ALTER_CONFIGS(11), IDEMPOTENT_WRITE(12).
 */
export const clusterOperationsAll =
  (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

export const describeClusterHandler: ApiHandler<DescribeClusterRequest, DescribeClusterResponse> = {
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(request, context) {
    const { services } = context;
    const endpointType = request.endpointType ?? EndpointType.BROKER;
    const base = {
      throttleTimeMs: 0,
      endpointType,
      clusterId: services.clusterId,
      controllerId: services.cluster?.advertisedControllerId ?? services.nodeId,
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? clusterOperationsAll
        : operationsNotRequested,
    };
    if (endpointType !== EndpointType.BROKER) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: `endpoint type ${endpointType} is not served by a broker listener`,
        brokers: [],
      };
    }
    if (services.cluster !== undefined) {
      return {
        ...base,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        brokers: clusterBrokers(services.cluster, context).map((broker) => ({
          brokerId: broker.nodeId,
          host: broker.host,
          port: broker.port,
          rack: broker.rack,
        })),
      };
    }
    // Only brokers with an address on the listener the request arrived on, as Kafka lists them.
    const endpoint = advertisedEndpoint(context);
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      brokers:
        endpoint === undefined
          ? []
          : [
              {
                brokerId: services.nodeId,
                host: endpoint.host,
                port: endpoint.port,
                rack: services.config.get('broker.rack'),
              },
            ],
    };
  },
  errorResponse(_request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      clusterId: '',
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: operationsNotRequested,
    };
  },
};
