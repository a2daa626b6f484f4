#!/usr/bin/python3
"""Writes packages/compression/fixtures/: compressed payloads and whole record batches made by
implementations independent of ours (Python's zlib, python-snappy, python-lz4, python-zstandard,
the lz4 and zstd command-line tools, kafka-python 2.0.2's record batch builder, and librdkafka
2.0.2 through confluent-kafka-python: batches it produced into its own mock cluster, fetched back
raw over the wire by kafka-python), for the tests to decode. Run by hand with Debian's /usr/bin/python3 (python3-snappy, python3-lz4,
python3-zstandard, python3-kafka, lz4, zstd); the tests read only the files it writes."""

import gzip
import json
import os
import subprocess
import tempfile

import lz4.frame
import snappy
import zstandard
from kafka import codec
from kafka.record.default_records import DefaultRecordBatchBuilder

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures')


def payload():
    lines = []
    for index in range(3000):
        lines.append('{"id":%d,"user":"user-%d","event":"click","path":"/items/%d"}' % (index, index % 97, index % 13))
    return ('\n'.join(lines)).encode()


def cli(command, data, output_flag):
    with tempfile.TemporaryDirectory() as directory:
        source = os.path.join(directory, 'in')
        target = os.path.join(directory, 'out')
        with open(source, 'wb') as handle:
            handle.write(data)
        subprocess.run(command + [source] + output_flag + [target], check=True, capture_output=True)
        with open(target, 'rb') as handle:
            return handle.read()


def codec_vectors(plain):
    zstd_stream = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    streamed = zstd_stream.compress(plain[:20000]) + zstd_stream.compress(plain[20000:]) + zstd_stream.flush()
    return {
        'gzip-python-zlib': gzip.compress(plain),
        'gzip-kafka-python': codec.gzip_encode(plain),
        'snappy-raw-python-snappy': snappy.compress(plain),
        'snappy-xerial-kafka-python': codec.snappy_encode(plain, xerial_compatible=True, xerial_blocksize=32 * 1024),
        'lz4-frame-python-linked-checksummed': lz4.frame.compress(
            plain, block_linked=True, content_checksum=True, store_size=True),
        'lz4-frame-python-independent-blockchecksum': lz4.frame.compress(
            plain, block_linked=False, block_checksum=True, store_size=False),
        'lz4-frame-kafka-python': codec.lz4_encode(plain),
        'lz4-frame-cli': cli(['lz4', '-q', '-f'], plain, []),
        'zstd-python-streamed-no-content-size': streamed,
        'zstd-kafka-python': codec.zstd_encode(plain),
        'zstd-cli': cli(['zstd', '-q', '-f'], plain, ['-o']),
        'zstd-two-frames-python': zstandard.ZstdCompressor().compress(plain[:1000])
        + zstandard.ZstdCompressor().compress(plain[1000:]),
    }


def batch_records():
    records = []
    for index in range(200):
        key = None if index % 10 == 0 else ('key-%d' % (index % 17)).encode()
        value = None if index % 50 == 7 else ('{"n":%d,"text":"%s"}' % (index, 'abc' * (index % 20))).encode()
        headers = [('h%d' % (index % 3), ('v%d' % index).encode())] if index % 4 == 0 else []
        if index % 40 == 0:
            headers.append(('null-header', None))
        records.append({'offsetDelta': index, 'timestamp': 1700000000000 + index * 3 - (index % 5), 'key': key,
                        'value': value, 'headers': headers})
    return records


def build_batch(compression, records, transactional, producer):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=compression, is_transactional=transactional, producer_id=producer[0],
        producer_epoch=producer[1], base_sequence=producer[2], batch_size=1 << 20)
    for record in records:
        builder.append(record['offsetDelta'], record['timestamp'], record['key'], record['value'], record['headers'])
    return bytes(builder.build())


def librdkafka_records():
    return [{'key': ('key-%d' % index).encode(), 'value': ('{"n":%d,"pad":"%s"}' % (index, 'xyz' * 30)).encode(),
             'headers': [('trace', ('t%d' % index).encode())], 'timestamp': 1700000000000 + index}
            for index in range(120)]


def librdkafka_fetch(compression, idempotent):
    """Produces with librdkafka into its mock cluster, then fetches partition 0's raw bytes."""
    import time
    import confluent_kafka
    from kafka.client_async import KafkaClient
    from kafka.protocol.fetch import FetchRequest
    producer = confluent_kafka.Producer({
        'test.mock.num.brokers': 1, 'compression.codec': compression, 'linger.ms': 100,
        'enable.idempotence': idempotent, 'log_level': 0})
    for record in librdkafka_records():
        producer.produce('fixtures', value=record['value'], key=record['key'], headers=record['headers'],
                         timestamp=record['timestamp'], partition=0)
    producer.flush(10)
    broker = list(producer.list_topics(timeout=5).brokers.values())[0]
    client = KafkaClient(bootstrap_servers='%s:%d' % (broker.host, broker.port), api_version=(2, 0, 0))
    deadline = time.time() + 10
    while not client.ready(broker.id) and time.time() < deadline:
        client.poll(timeout_ms=100)
    future = client.send(broker.id, FetchRequest[4](-1, 100, 1, 10 << 20, 0, [('fixtures', [(0, 0, 8 << 20)])]))
    client.poll(future=future, timeout_ms=5000)
    records = bytes(future.value.topics[0][1][0][-1])
    client.close()
    return records, confluent_kafka.libversion()[0]


def hexed(value):
    return None if value is None else value.hex()


def main():
    os.makedirs(OUT, exist_ok=True)
    plain = payload()
    with open(os.path.join(OUT, 'payload.bin'), 'wb') as handle:
        handle.write(plain)
    codecs = {}
    for name, data in codec_vectors(plain).items():
        with open(os.path.join(OUT, name + '.bin'), 'wb') as handle:
            handle.write(data)
        codecs[name] = {'file': name + '.bin', 'sizeBytes': len(data)}
    records = batch_records()
    batches = {}
    for compression, name in enumerate(['none', 'gzip', 'snappy', 'lz4', 'zstd']):
        for transactional in (False, True):
            producer = (4242, 3, 100) if transactional else (-1, -1, -1)
            data = build_batch(compression, records, transactional, producer)
            file = 'batch-kafka-python-%s%s.bin' % (name, '-transactional' if transactional else '')
            with open(os.path.join(OUT, file), 'wb') as handle:
                handle.write(data)
            batches[file] = {'compression': compression, 'transactional': transactional,
                             'producerId': producer[0], 'producerEpoch': producer[1], 'baseSequence': producer[2]}
    librdkafka = {}
    for compression in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
        for idempotent in (False, True):
            data, version = librdkafka_fetch(compression, idempotent)
            file = 'batches-librdkafka-%s-%s%s.bin' % (version, compression, '-idempotent' if idempotent else '')
            with open(os.path.join(OUT, file), 'wb') as handle:
                handle.write(data)
            librdkafka[file] = {'compression': ['none', 'gzip', 'snappy', 'lz4', 'zstd'].index(compression),
                                'idempotent': idempotent}
    manifest = {
        'generator': 'scripts/make-fixtures.py (kafka-python %s)' % __import__('kafka').__version__,
        'codecs': codecs,
        'batches': batches,
        'librdkafkaBatches': librdkafka,
        'librdkafkaRecords': [{'timestamp': r['timestamp'], 'key': r['key'].hex(), 'value': r['value'].hex(),
                               'headers': [{'key': k, 'value': v.hex()} for k, v in r['headers']]}
                              for r in librdkafka_records()],
        'records': [{'offsetDelta': r['offsetDelta'], 'timestamp': r['timestamp'], 'key': hexed(r['key']),
                     'value': hexed(r['value']),
                     'headers': [{'key': k, 'value': hexed(v)} for k, v in r['headers']]} for r in records],
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as handle:
        json.dump(manifest, handle, indent=1)


main()
