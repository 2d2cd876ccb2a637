import struct


def _ctrl(typ, size):
    """Control byte(s) of the MaxMind DB data section for a type and size."""
    assert size < 285
    low, extra = (size, b'') if size < 29 else (29, bytes([size - 29]))
    if typ <= 7:
        return bytes([(typ << 5) | low]) + extra
    return bytes([low, typ - 7]) + extra


def _enc(v):
    if isinstance(v, tuple):  # (type name, value) for the integer widths the metadata needs
        typ = {'u16': 5, 'u32': 6, 'u64': 9}[v[0]]
        b = v[1].to_bytes(8, 'big').lstrip(b'\0')
        return _ctrl(typ, len(b)) + b
    if isinstance(v, str):
        b = v.encode()
        return _ctrl(2, len(b)) + b
    if isinstance(v, bool):
        raise TypeError('bool')
    if isinstance(v, int):
        b = v.to_bytes(8, 'big').lstrip(b'\0')
        return (_ctrl(6, len(b)) if v < 2**32 else _ctrl(9, len(b))) + b
    if isinstance(v, dict):
        return _ctrl(7, len(v)) + b''.join(_enc(k) + _enc(x) for k, x in v.items())
    if isinstance(v, list):
        return _ctrl(11, len(v)) + b''.join(_enc(x) for x in v)
    raise TypeError(type(v))


def write_ipv4_db(path, prefix, bits, record):
    """A MaxMind DB (format 2.0, IPv4, 24-bit records) in which exactly the
    addresses of prefix/bits (prefix an int) map to record."""
    nodes = bits
    data = _enc(record)
    tree = b''
    for i in range(bits):
        bit = (prefix >> (31 - i)) & 1
        nxt = i + 1 if i + 1 < bits else nodes + 16  # the data at offset 0
        left, right = (nxt, nodes) if bit == 0 else (nodes, nxt)
        tree += left.to_bytes(3, 'big') + right.to_bytes(3, 'big')
    meta = {'binary_format_major_version': ('u16', 2), 'binary_format_minor_version': ('u16', 0),
            'build_epoch': ('u64', 1700000000), 'database_type': 'exhunt-test',
            'description': {'en': 'exhunt test'}, 'ip_version': ('u16', 4), 'languages': ['en'],
            'node_count': ('u32', nodes), 'record_size': ('u16', 24)}
    with open(path, 'wb') as f:
        f.write(tree + b'\0' * 16 + data + b'\xab\xcd\xefMaxMind.com' + _enc(meta))
