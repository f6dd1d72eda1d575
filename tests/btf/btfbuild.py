"""A tiny BTF encoder for tests: blobs clang never emits (old bitfield encoding,
kind_flag tags, the 32-byte header with a layout section, unknown kinds, split BTF).

It is written from the wire format description, independently of the reader.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# kind -> (info_size, elem_size), as documented for the layout section
LAYOUT = {
    0: (0, 0),
    1: (4, 0),
    2: (0, 0),
    3: (12, 0),
    4: (0, 12),
    5: (0, 12),
    6: (0, 8),
    7: (0, 0),
    8: (0, 0),
    9: (0, 0),
    10: (0, 0),
    11: (0, 0),
    12: (0, 0),
    13: (0, 8),
    14: (4, 0),
    15: (0, 12),
    16: (0, 0),
    17: (4, 0),
    18: (0, 0),
    19: (0, 12),
}


@dataclass
class Builder:
    order: str = "<"  # "<" or ">"
    str_base: int = 0  # split BTF: the base's string section length (split strings
    # start with their own empty string, as libbpf before 1.2 requires)
    strings: bytearray = field(default_factory=lambda: bytearray(b"\0"))
    types: bytearray = field(default_factory=bytearray)
    count: int = 0

    def s(self, text: str) -> int:
        """Offset of ``text`` (appended); 0 for the empty name in base BTF."""
        if not text:
            return 0
        off = self.str_base + len(self.strings)
        self.strings += text.encode() + b"\0"
        return off

    def u32(self, *values: int) -> bytes:
        return struct.pack(self.order + "I" * len(values), *values)

    def add(
        self, kind: int, name: str, vlen: int, size_or_type: int, extra: bytes = b"", kflag: int = 0
    ) -> int:
        info = (kflag << 31) | (kind << 24) | vlen
        self.types += self.u32(self.s(name) if name else 0, info, size_or_type) + extra
        self.count += 1
        return self.count

    def int_(self, name: str, size: int, bits: int, encoding: int = 0, offset: int = 0) -> int:
        return self.add(1, name, 0, size, self.u32((encoding << 24) | (offset << 16) | bits))

    def record(
        self, kind: int, name: str, size: int, members: list[tuple[str, int, int]], kflag: int = 0
    ) -> int:
        body = b"".join(self.u32(self.s(n) if n else 0, t, off) for n, t, off in members)
        return self.add(kind, name, len(members), size, body, kflag)

    def build(self, hdr_len: int = 24, layout: dict[int, tuple[int, int]] | None = None) -> bytes:
        lay = b""
        if layout is not None:
            lay = b"".join(
                struct.pack(self.order + "BBH", *layout.get(k, (0, 0)), 0)
                for k in range(max(layout) + 1)
            )
        type_off = 0
        type_len = len(self.types)
        str_off = type_len
        str_len = len(self.strings)
        fields = [type_off, type_len, str_off, str_len]
        body = bytes(self.types) + bytes(self.strings)
        if hdr_len >= 32:
            pad = (-len(body)) % 4
            body += b"\0" * pad
            fields += [len(body) if lay else 0, len(lay)]
            body += lay
        head = struct.pack(self.order + "HBBI", 0xEB9F, 1, 0, hdr_len) + self.u32(*fields)
        head += b"\0" * (hdr_len - len(head))
        return head + body
