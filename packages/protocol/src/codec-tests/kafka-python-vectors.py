# Emits encoded request/response bodies built by kafka-python (an implementation we did not
# write) for every API class it defines, as JSON lines; the conformance test decodes them with
# the generated codecs. Run with /usr/bin/python3 (Debian's python3-kafka).
import importlib
import inspect
import json
import pkgutil
import random
import sys

import kafka.protocol as protocol_package
from kafka.protocol.api import Request, Response
from kafka.protocol import types

generator = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
alphabet = 'abcxyz-._0123'


def is_kind(kind, cls):
    return isinstance(kind, cls) or (inspect.isclass(kind) and issubclass(kind, cls))


def value_for(kind):
    if isinstance(kind, types.Schema):
        return tuple(value_for(field) for field in kind.fields)
    if isinstance(kind, types.Array):
        return [value_for(kind.array_of) for _ in range(generator.randint(0, 2))]
    if is_kind(kind, types.Int8):
        return generator.randint(-128, 127)
    if is_kind(kind, types.Int16):
        return generator.randint(-32768, 32767)
    if is_kind(kind, types.Int32):
        return generator.randint(-2**31, 2**31 - 1)
    if is_kind(kind, types.Int64):
        return generator.randint(-2**63, 2**63 - 1)
    if is_kind(kind, types.Boolean):
        return generator.random() < 0.5
    if is_kind(kind, types.String):
        return ''.join(generator.choice(alphabet) for _ in range(generator.randint(0, 6)))
    if is_kind(kind, types.Bytes):
        return bytes(generator.randint(0, 255) for _ in range(generator.randint(0, 6)))
    raise TypeError('unknown kafka-python type %r' % (kind,))


for module_info in pkgutil.iter_modules(protocol_package.__path__):
    module = importlib.import_module('kafka.protocol.' + module_info.name)
    for name, cls in sorted(vars(module).items()):
        if not (inspect.isclass(cls) and issubclass(cls, (Request, Response))):
            continue
        if cls.__module__ != module.__name__ or not isinstance(getattr(cls, 'SCHEMA', None), types.Schema):
            continue
        if not isinstance(getattr(cls, 'API_KEY', None), int) or not isinstance(getattr(cls, 'API_VERSION', None), int):
            continue
        for _ in range(3):
            values = value_for(cls.SCHEMA)
            instance = cls(*values)
            try:
                encoded = instance.encode()
            except TypeError as error:  # a kafka-python schema it cannot encode itself
                sys.stderr.write('skipped %s: %s\n' % (name, error))
                break
            print(json.dumps({
                'name': name,
                'apiKey': cls.API_KEY,
                'version': cls.API_VERSION,
                'kind': 'request' if issubclass(cls, Request) else 'response',
                'hex': encoded.hex(),
            }))
