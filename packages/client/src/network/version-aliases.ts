// Versions that Kafka 4.x brokers speak and the schema folder (older than Kafka 4.0) lacks, whose
// bytes equal an older version's; only their meaning differs (KIP-890 transaction version 2):
// Produce v12 is v11 on the wire (a transactional produce may add its partition implicitly), and
// TxnOffsetCommit v5 is v4 (it may add the group implicitly). The client sends such a version with
// the older version's codec and reads the response the same way.

import {
  type ApiDescriptor,
  ApiKey,
  encodeRequestFrame,
  encodeRequestHeader,
  type RequestHeader,
  Writer,
} from '@gregor/protocol';

interface VersionAlias {
  version: number;
  sameAs: number;
}

const versionAliases: ReadonlyMap<number, VersionAlias> = new Map([
  [ApiKey.Produce, { version: 12, sameAs: 11 }],
  [ApiKey.TxnOffsetCommit, { version: 5, sameAs: 4 }],
]);

/** The highest version this client can send for `api`, aliases included. */
export function clientMaxVersion(api: ApiDescriptor): number {
  const alias = versionAliases.get(api.apiKey);
  return alias !== undefined && alias.sameAs === api.maxVersion ? alias.version : api.maxVersion;
}

/** The codec version that encodes and decodes `version` of `api`. */
export function layoutVersion(api: ApiDescriptor, version: number): number {
  if (version <= api.maxVersion) return version;
  const alias = versionAliases.get(api.apiKey);
  if (alias === undefined || version !== alias.version || alias.sameAs !== api.maxVersion) {
    throw new RangeError(`${api.name} v${version} has no codec`);
  }
  return alias.sameAs;
}

/** `[int32 size][request header][body]`: the header says `header.requestApiVersion`, the body uses its layout. */
export function encodeRequest(api: ApiDescriptor, header: RequestHeader, body: unknown): Buffer[] {
  const layout = layoutVersion(api, header.requestApiVersion);
  if (layout === header.requestApiVersion) return encodeRequestFrame(header, body);
  const writer = new Writer({ sizePrefixed: true });
  encodeRequestHeader(writer, api.requestHeaderVersion(layout), header);
  api.encodeRequest(writer, layout, body);
  return writer.finish();
}
