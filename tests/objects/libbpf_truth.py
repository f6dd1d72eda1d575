"""Independent truth for the object-model tests: the pinned libbpf through ctypes.

Opens and loads an object into the running kernel, then reads back what
libbpf created (``bpf_map__*`` getters) and the BTF it fixed up and loaded
(DATASEC sizes and variable offsets). Everything is closed on exit.
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.toolchain import libbpf

BTF_KIND_VAR = 14
BTF_KIND_DATASEC = 15


class OpenOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
    ]


class BtfType(ctypes.Structure):
    _fields_ = [("name_off", ctypes.c_uint32), ("info", ctypes.c_uint32), ("size", ctypes.c_uint32)]


class VarSecinfo(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("offset", ctypes.c_uint32), ("size", ctypes.c_uint32)]


@dataclass(frozen=True)
class LoadedMap:
    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    map_extra: int
    numa_node: int
    pin_path: str | None
    pinned: bool
    id: int


def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(libbpf().so_path), use_errno=True)
    p, u32, i = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int
    sigs = {
        "bpf_object__open_file": (p, [ctypes.c_char_p, ctypes.POINTER(OpenOpts)]),
        "bpf_object__load": (i, [p]),
        "bpf_object__close": (None, [p]),
        "bpf_object__next_map": (p, [p, p]),
        "bpf_object__btf": (p, [p]),
        "bpf_object__next_program": (p, [p, p]),
        "bpf_program__name": (ctypes.c_char_p, [p]),
        "bpf_program__section_name": (ctypes.c_char_p, [p]),
        "bpf_program__type": (i, [p]),
        "bpf_program__expected_attach_type": (i, [p]),
        "bpf_program__insn_cnt": (ctypes.c_size_t, [p]),
        "bpf_program__autoload": (ctypes.c_bool, [p]),
        "bpf_program__fd": (i, [p]),
        "bpf_program__set_autoload": (i, [p, ctypes.c_bool]),
        "bpf_program__set_log_buf": (i, [p, ctypes.c_char_p, ctypes.c_size_t]),
        "bpf_program__set_log_level": (i, [p, u32]),
        "bpf_prog_get_info_by_fd": (i, [i, p, ctypes.POINTER(u32)]),
        "bpf_map__name": (ctypes.c_char_p, [p]),
        "bpf_map__type": (i, [p]),
        "bpf_map__key_size": (u32, [p]),
        "bpf_map__value_size": (u32, [p]),
        "bpf_map__max_entries": (u32, [p]),
        "bpf_map__map_flags": (u32, [p]),
        "bpf_map__map_extra": (ctypes.c_uint64, [p]),
        "bpf_map__numa_node": (u32, [p]),
        "bpf_map__pin_path": (ctypes.c_char_p, [p]),
        "bpf_map__is_pinned": (ctypes.c_bool, [p]),
        "bpf_map__unpin": (i, [p, ctypes.c_char_p]),
        "bpf_map__fd": (i, [p]),
        "bpf_map_lookup_elem": (i, [i, p, p]),
        "bpf_map_get_info_by_fd": (i, [i, p, ctypes.POINTER(u32)]),
        "btf__find_by_name_kind": (i, [p, ctypes.c_char_p, u32]),
        "btf__type_by_id": (ctypes.POINTER(BtfType), [p, u32]),
        "btf__name_by_offset": (ctypes.c_char_p, [p, u32]),
        "libbpf_get_error": (ctypes.c_long, [p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


class Loaded:
    """A loaded ``bpf_object``: its maps and fixed-up BTF, valid inside :func:`loaded`."""

    def __init__(self, lib: ctypes.CDLL, obj: int) -> None:
        self.lib = lib
        self.obj = obj

    def _map_ptrs(self) -> dict[str, int]:
        out: dict[str, int] = {}
        m = self.lib.bpf_object__next_map(self.obj, None)
        while m:
            out[self.lib.bpf_map__name(m).decode()] = m
            m = self.lib.bpf_object__next_map(self.obj, m)
        return out

    def map_id(self, fd: int) -> int:
        buf = (ctypes.c_uint8 * 256)()
        size = ctypes.c_uint32(256)
        if self.lib.bpf_map_get_info_by_fd(fd, buf, ctypes.byref(size)) != 0:
            raise OSError(ctypes.get_errno(), "bpf_map_get_info_by_fd")
        return int.from_bytes(bytes(buf[4:8]), "little")  # struct bpf_map_info: type, id

    def program_id(self, name: str) -> int:
        prog = self.lib.bpf_object__next_program(self.obj, None)
        while prog:
            if self.lib.bpf_program__name(prog).decode() == name:
                buf = (ctypes.c_uint8 * 512)()
                size = ctypes.c_uint32(512)
                fd = self.lib.bpf_program__fd(prog)
                if self.lib.bpf_prog_get_info_by_fd(fd, buf, ctypes.byref(size)) != 0:
                    raise OSError(ctypes.get_errno(), "bpf_prog_get_info_by_fd")
                return int.from_bytes(bytes(buf[4:8]), "little")  # struct bpf_prog_info: type, id
            prog = self.lib.bpf_object__next_program(self.obj, prog)
        raise KeyError(name)

    def maps(self) -> dict[str, LoadedMap]:
        lib = self.lib
        out = {}
        for name, m in self._map_ptrs().items():
            pin = lib.bpf_map__pin_path(m)
            out[name] = LoadedMap(
                name=name,
                type=lib.bpf_map__type(m),
                key_size=lib.bpf_map__key_size(m),
                value_size=lib.bpf_map__value_size(m),
                max_entries=lib.bpf_map__max_entries(m),
                flags=lib.bpf_map__map_flags(m),
                map_extra=lib.bpf_map__map_extra(m),
                numa_node=lib.bpf_map__numa_node(m),
                pin_path=pin.decode() if pin else None,
                pinned=lib.bpf_map__is_pinned(m),
                id=self.map_id(lib.bpf_map__fd(m)),
            )
        return out

    def lookup_u32(self, map_name: str, key: int) -> int | None:
        m = self._map_ptrs()[map_name]
        k = ctypes.c_uint32(key)
        v = ctypes.c_uint32(0)
        fd = self.lib.bpf_map__fd(m)
        if self.lib.bpf_map_lookup_elem(fd, ctypes.byref(k), ctypes.byref(v)) != 0:
            return None
        return v.value

    def datasec(self, name: str) -> tuple[int, dict[str, tuple[int, int]]]:
        """Size and ``{var: (offset, size)}`` of a DATASEC in the BTF libbpf loaded."""
        lib = self.lib
        btf = lib.bpf_object__btf(self.obj)
        type_id = lib.btf__find_by_name_kind(btf, name.encode(), BTF_KIND_DATASEC)
        if type_id < 0:
            raise KeyError(name)
        t = lib.btf__type_by_id(btf, type_id)
        vlen = t.contents.info & 0xFFFF
        base = ctypes.addressof(t.contents) + ctypes.sizeof(BtfType)
        secinfos = (VarSecinfo * vlen).from_address(base)
        out = {}
        for vsi in secinfos:
            var = lib.btf__type_by_id(btf, vsi.type)
            out[lib.btf__name_by_offset(btf, var.contents.name_off).decode()] = (
                vsi.offset,
                vsi.size,
            )
        return t.contents.size, out

    def unpin_all(self) -> None:
        for m in self._map_ptrs().values():
            if self.lib.bpf_map__is_pinned(m):
                self.lib.bpf_map__unpin(m, None)


@dataclass(frozen=True)
class OpenedProgram:
    name: str
    section: str
    type: int
    expected_attach_type: int
    insns: int
    autoload: bool


def opened_programs(path: Path) -> dict[str, OpenedProgram]:
    """Programs as ``bpf_object__open`` sees them (nothing is loaded)."""
    lib = _lib()
    opts = OpenOpts()
    opts.sz = ctypes.sizeof(OpenOpts)
    obj = lib.bpf_object__open_file(str(path).encode(), ctypes.byref(opts))
    if not obj or lib.libbpf_get_error(obj):
        raise OSError(ctypes.get_errno(), f"bpf_object__open_file({path}) failed")
    try:
        out = {}
        prog = lib.bpf_object__next_program(obj, None)
        while prog:
            name = lib.bpf_program__name(prog).decode()
            out[name] = OpenedProgram(
                name=name,
                section=lib.bpf_program__section_name(prog).decode(),
                type=lib.bpf_program__type(prog),
                expected_attach_type=lib.bpf_program__expected_attach_type(prog),
                insns=lib.bpf_program__insn_cnt(prog),
                autoload=lib.bpf_program__autoload(prog),
            )
            prog = lib.bpf_object__next_program(obj, prog)
        return out
    finally:
        lib.bpf_object__close(obj)


def load_one(path: Path, program: str) -> tuple[int, str]:
    """Load ``path`` with only ``program`` enabled: (0 or -errno, the verifier log)."""
    lib = _lib()
    opts = OpenOpts()
    opts.sz = ctypes.sizeof(OpenOpts)
    obj = lib.bpf_object__open_file(str(path).encode(), ctypes.byref(opts))
    if not obj or lib.libbpf_get_error(obj):
        raise OSError(ctypes.get_errno(), f"bpf_object__open_file({path}) failed")
    log = ctypes.create_string_buffer(1 << 20)
    try:
        prog = lib.bpf_object__next_program(obj, None)
        while prog:
            mine = lib.bpf_program__name(prog).decode() == program
            lib.bpf_program__set_autoload(prog, mine)
            if mine:
                lib.bpf_program__set_log_buf(prog, log, len(log))
                lib.bpf_program__set_log_level(prog, 1)
            prog = lib.bpf_object__next_program(obj, prog)
        err = lib.bpf_object__load(obj)
        return err, log.value.decode(errors="replace")
    finally:
        lib.bpf_object__close(obj)


@contextmanager
def loaded(path: Path, pin_root: Path | None = None):
    """Open and load ``path`` with libbpf; close (and unpin) on exit."""
    lib = _lib()
    opts = OpenOpts()
    opts.sz = ctypes.sizeof(OpenOpts)
    if pin_root is not None:
        opts.pin_root_path = str(pin_root).encode()
    obj = lib.bpf_object__open_file(str(path).encode(), ctypes.byref(opts))
    if not obj or lib.libbpf_get_error(obj):
        raise OSError(ctypes.get_errno(), f"bpf_object__open_file({path}) failed")
    loaded_obj = Loaded(lib, obj)
    try:
        err = lib.bpf_object__load(obj)
        if err:
            raise OSError(-err, f"bpf_object__load({path}) failed: {os.strerror(-err)}")
        yield loaded_obj
    finally:
        loaded_obj.unpin_all()
        lib.bpf_object__close(obj)
