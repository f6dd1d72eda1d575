"""What the ``__array`` page says of inner map sizes, measured on the running kernel.

An outer map's inner maps must match its template in type, key and value size and
flags; ``max_entries`` only for the array types (``array_map_meta_equal``), and not
when the template has ``BPF_F_INNER_MAP``. Maps are made with the pinned libbpf's
``bpf_map_create`` and closed again.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

import pytest

from kptrdoc import toolchain

HASH, ARRAY, ARRAY_OF_MAPS = 1, 2, 12
BPF_F_INNER_MAP = 1 << 12


def _libbpf() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(toolchain.libbpf().so_path), use_errno=True)
    lib.bpf_map_create.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32,
                                   ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]  # fmt: skip
    lib.bpf_map_update_elem.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_uint64]  # fmt: skip
    return lib


def _create(lib: ctypes.CDLL, kind: int, entries: int, flags: int = 0, inner: int = 0) -> int:
    # struct bpf_map_create_opts up to map_ifindex: sz, btf_fd, btf_key_type_id,
    # btf_value_type_id, btf_vmlinux_value_type_id, inner_map_fd, map_flags, map_extra,
    # numa_node, map_ifindex
    opts = ctypes.create_string_buffer(struct.pack("=QIIIIIIQII", 48, 0, 0, 0, 0, inner,
                                                   flags, 0, 0, 0))  # fmt: skip
    fd = lib.bpf_map_create(kind, b"kd_inner", 4, 4, entries, ctypes.cast(opts, ctypes.c_void_p))
    if fd < 0:
        if -fd in (errno.EPERM, errno.EACCES):
            pytest.skip("creating maps is not permitted here")
        raise OSError(-fd, os.strerror(-fd))
    return fd


@pytest.mark.parametrize(
    ("kind", "flags", "fits"),
    [(HASH, 0, True), (ARRAY, 0, False), (ARRAY, BPF_F_INNER_MAP, True)],
    ids=["hash", "array", "array-inner-map-flag"],
)
def test_a_smaller_inner_map_fits_the_template(kind: int, flags: int, fits: bool) -> None:
    lib = _libbpf()
    fds: list[int] = []
    try:
        template = _create(lib, kind, 1024, flags)
        fds.append(template)
        outer = _create(lib, ARRAY_OF_MAPS, 1, inner=template)
        fds.append(outer)
        small = _create(lib, kind, 64, flags)
        fds.append(small)
        key, value = ctypes.c_uint32(0), ctypes.c_uint32(small)
        rc = lib.bpf_map_update_elem(outer, ctypes.byref(key), ctypes.byref(value), 0)
        assert (rc == 0) == fits, f"update returned {rc}"
        if not fits:
            assert rc == -errno.EINVAL
        # the same size always fits: the refusal is about max_entries alone
        same = _create(lib, kind, 1024, flags)
        fds.append(same)
        value = ctypes.c_uint32(same)
        assert lib.bpf_map_update_elem(outer, ctypes.byref(key), ctypes.byref(value), 0) == 0
    finally:
        for fd in fds:
            os.close(fd)
