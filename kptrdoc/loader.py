"""Load one program of a BPF object into the running kernel through libbpf (ctypes).

Standard library only, so the kernel matrix can run it inside a guest::

    python -m kptrdoc.loader OBJ [PROGRAM ...] --json

For each program: open the object, autoload only that program, give it a
log buffer, load, read the verdict, the verifier log and its statistics,
optionally attach and trigger it (writing the ``__run_set`` globals first,
reading the ``__run_check`` globals back after: both are read from the
object's own BTF, by :func:`kptrdoc.expectations.parse_tags`), then close
everything. Nothing stays attached, every fd is closed by
``bpf_object__close``. An object whose maps ask to be pinned
(``LIBBPF_PIN_BY_NAME``) is opened with a pin root in a private bpffs mount
of this process, unpinned after the load and the mount removed at exit:
nothing is ever pinned under ``/sys/fs/bpf``.

Verdicts:

``loaded``                 the verifier accepted the program;
``rejected``               the verifier refused it (the log says why);
``failed-before-verifier`` libbpf gave up before the kernel saw the program
                           (a kfunc missing from the kernel BTF, a map it
                           could not create, ...); ``reason`` is libbpf's word;
``refused-program-type``   the kernel refused the program with an empty log
                           (fentry/fexit/lsm on kernels that do not allow
                           them): not verifiable on this kernel.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import errno as errno_mod
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from hashlib import sha256
from pathlib import Path
from types import MappingProxyType

from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import (
    RUN_VALUES,
    ValueSpec,
    literal_value,
    parse_tags,
    printed_text,
    run_wrong,
)

LOADED = "loaded"
REJECTED = "rejected"
FAILED_BEFORE_VERIFIER = "failed-before-verifier"
REFUSED_PROGRAM_TYPE = "refused-program-type"

LOG_LEVEL_1 = 1
LOG_LEVEL_2 = 2
LOG_STATS = 4
LOG_BUF_SIZE = 16 * 1024 * 1024
BPF_STATS_RUN_TIME = 0
ENOTSUPP = 524  # kernel-internal "operation not supported", seen by user space as is

_STATS_RE = re.compile(
    r"processed (?P<insns>\d+) insns \(limit \d+\) max_states_per_insn (?P<max>\d+) "
    r"total_states (?P<total>\d+) peak_states (?P<peak>\d+)"
)
# 7.x adds a line before that one, with the count per subprogram:
# "insns processed 11+1" (main program, then each global subprogram)
_INSNS_LINE_RE = re.compile(r"^insns processed (?P<parts>\d+(?:\+\d+)*)\s*$", re.M)
# 7.3 prints one line per subprogram instead:
# "subprog 0 (inner_map_unchecked) main insns_self 13 insns_total 13 stack 8"
_SUBPROG_STATS_RE = re.compile(r"^subprog \d+ \(\S*\) .*\binsns_self \d+")


class LoaderError(KptrdocError):
    """libbpf is unusable, the object cannot be opened, or a program name is unknown."""


@dataclass(frozen=True)
class RunValues:
    """What a trigger knows about the event it caused (the names of
    :data:`kptrdoc.expectations.RUN_VALUES`); ``None``: not recorded."""

    pid: int
    tgid: int
    ppid: int
    child_pid: int | None = None
    fd: int | None = None
    nr: int | None = None
    args: tuple[int, ...] = ()
    retval: int | None = None
    pkt_len: int | None = None
    nonce: int = field(default_factory=lambda: secrets.randbelow(1 << 30) + 1)
    """Drawn for each run: a marker the program can print (``__run_printed``)."""

    def get(self, name: str) -> int | None:
        """The value of ``name`` (``arg0``.. included), or ``None``."""
        if name not in RUN_VALUES:
            return None
        if name.startswith("arg"):
            index = int(name[3:])
            return self.args[index] if index < len(self.args) else None
        value = getattr(self, name)
        return value if isinstance(value, int) else None

    def known(self) -> dict[str, int]:
        """Every recorded value by name, in the order of the vocabulary."""
        out = {}
        for name in RUN_VALUES:
            value = self.get(name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class ValueCheck:
    """One ``__run_check``: the global read back after the event, against the value named."""

    variable: str
    value: str
    """What the annotation names: a name of the vocabulary or a literal."""
    expected: int | None
    got: int | None
    ok: bool
    section: str = ""
    offset: int = 0
    size: int = 0
    error: str = ""
    """Why the two could not be compared (then ``ok`` is false)."""


@dataclass
class PrintedCheck:
    """One ``__run_printed``: text the run must leave in the kernel's trace buffer."""

    template: str
    """As annotated, with ``{name}`` placeholders."""
    text: str
    """With the run's values filled in ("" when one was not recorded)."""
    found: bool
    line: str = ""
    """The trace buffer's line that holds it."""
    error: str = ""


@dataclass
class ValueInput:
    """One ``__run_set``: the value written into a global before the event."""

    variable: str
    value: str
    written: int | None
    section: str = ""
    offset: int = 0
    size: int = 0
    error: str = ""


@dataclass
class RunResult:
    """What happened when the program was attached and its event triggered."""

    trigger: str
    run_cnt_before: int
    run_cnt_after: int
    error: str = ""
    values: dict[str, int] = field(default_factory=dict)
    """What the trigger recorded (:meth:`RunValues.known`)."""
    inputs: list[ValueInput] = field(default_factory=list)
    checks: list[ValueCheck] = field(default_factory=list)
    printed: list[PrintedCheck] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return not self.error and self.run_cnt_after > self.run_cnt_before

    @property
    def wrong(self) -> str:
        """What the ``__run_check`` read wrongly and the ``__run_printed`` text missing, or
        "" (see :func:`kptrdoc.expectations.run_wrong`)."""
        return run_wrong(self)


@dataclass
class LoadResult:
    """The verdict on one program in the running kernel."""

    program: str
    section: str
    verdict: str
    errno: int
    reason: str
    log: str
    insns_processed: int | None
    states: int | None
    peak_states: int | None
    kernel_release: str
    libbpf_version: str
    libbpf_messages: list[str] = field(default_factory=list)
    run: RunResult | None = None

    def to_json(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------
# libbpf through ctypes
# --------------------------------------------------------------------------

_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_LIBBPF_WARN = 0


class _Libbpf:
    """The few libbpf entry points kptrdoc uses, with their C signatures."""

    def __init__(self, so_path: Path) -> None:
        try:
            lib = ctypes.CDLL(str(so_path), use_errno=True)
        except OSError as exc:
            raise LoaderError(f"{so_path}: cannot load libbpf ({exc})") from None
        self.lib = lib
        self.path = so_path
        vp, cp, i, u32 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32
        sz, u64 = ctypes.c_size_t, ctypes.c_uint64
        sigs: dict[str, tuple[object, list[object]]] = {
            "libbpf_set_print": (vp, [_PRINT_FN]),
            "libbpf_major_version": (u32, []),
            "libbpf_minor_version": (u32, []),
            "bpf_object__open_file": (vp, [cp, vp]),
            "bpf_object__next_map": (vp, [vp, vp]),
            "bpf_map__pin_path": (cp, [vp]),
            "bpf_object__unpin_maps": (i, [vp, cp]),
            "bpf_object__load": (i, [vp]),
            "bpf_object__close": (None, [vp]),
            "bpf_object__next_program": (vp, [vp, vp]),
            "bpf_program__name": (cp, [vp]),
            "bpf_program__section_name": (cp, [vp]),
            "bpf_program__set_autoload": (i, [vp, ctypes.c_bool]),
            "bpf_object__prepare": (i, [vp]),
            "bpf_map__type": (i, [vp]),
            "bpf_map__set_autocreate": (i, [vp, ctypes.c_bool]),
            "bpf_program__insns": (vp, [vp]),
            "bpf_program__insn_cnt": (sz, [vp]),
            "bpf_program__func_info": (ctypes.POINTER(FuncInfo), [vp]),
            "bpf_program__func_info_cnt": (u32, [vp]),
            "bpf_program__set_log_level": (i, [vp, u32]),
            "bpf_program__set_log_buf": (i, [vp, vp, ctypes.c_size_t]),
            "bpf_program__fd": (i, [vp]),
            "bpf_program__attach": (vp, [vp]),
            "bpf_link__fd": (i, [vp]),
            "bpf_iter_create": (i, [i]),
            "bpf_prog_stream_read": (i, [i, u32, vp, u32, vp]),
            "bpf_program__type": (i, [vp]),
            "bpf_program__attach_uprobe_opts": (vp, [vp, i, cp, ctypes.c_size_t, vp]),
            "bpf_program__attach_usdt": (vp, [vp, i, cp, cp, cp, vp]),
            "bpf_prog_test_run_opts": (i, [i, vp]),
            "bpf_object__btf": (vp, [vp]),
            "btf__type_cnt": (u32, [vp]),
            "btf__type_by_id": (vp, [vp, u32]),
            "btf__name_by_offset": (cp, [vp, u32]),
            "bpf_object__find_map_by_name": (vp, [vp, cp]),
            "bpf_map__value_size": (u32, [vp]),
            "bpf_map__lookup_elem": (i, [vp, vp, sz, vp, sz, u64]),
            "bpf_map__update_elem": (i, [vp, vp, sz, vp, sz, u64]),
            "bpf_link__destroy": (i, [vp]),
            "bpf_enable_stats": (i, [i]),
            "bpf_prog_get_next_id": (i, [u32, ctypes.POINTER(u32)]),
            "bpf_map_get_next_id": (i, [u32, ctypes.POINTER(u32)]),
            "bpf_link_get_next_id": (i, [u32, ctypes.POINTER(u32)]),
            "libbpf_probe_bpf_prog_type": (i, [i, vp]),
        }
        for name, (restype, argtypes) in sigs.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes

    @property
    def version(self) -> str:
        """The release, e.g. ``1.7.0`` (the patch level comes from the file name)."""
        major, minor = self.lib.libbpf_major_version(), self.lib.libbpf_minor_version()
        match = re.search(r"\.so\.(\d+\.\d+\.\d+)$", self.path.resolve().name)
        if match and match.group(1).startswith(f"{major}.{minor}."):
            return match.group(1)
        return f"{major}.{minor}"


_LIB: _Libbpf | None = None
_LIB_LOCK = threading.Lock()
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.vsnprintf.restype = ctypes.c_int
_LIBC.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
_LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_void_p]  # fmt: skip
_LIBC.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def libbpf_so() -> Path:
    """The pinned libbpf ``.so`` (``$KPTRDOC_LIBBPF_SO`` overrides, e.g. inside a matrix guest)."""
    env = os.environ.get("KPTRDOC_LIBBPF_SO")
    if env:
        return Path(env)
    from kptrdoc import toolchain

    return toolchain.libbpf().so_path


def lib() -> _Libbpf:
    global _LIB
    with _LIB_LOCK:
        if _LIB is None:
            _LIB = _Libbpf(libbpf_so())
            _LIB.lib.libbpf_set_print(_PRINT_CALLBACK)
        return _LIB


# libbpf's messages go to whoever is collecting on this thread; others are dropped.
_COLLECT = threading.local()


def _format(fmt: bytes, va_list: int | None) -> str:
    # On x86-64 (and other ABIs where va_list is an array type) the callback
    # receives a pointer to the va_list, which vsnprintf accepts as is. The
    # list can be consumed once, so format straight into a buffer big enough
    # for anything libbpf prints (it prints verifier logs in 4 KiB pieces at most
    # beyond what we pass in our own buffer).
    buf = ctypes.create_string_buffer(64 * 1024)
    n = _LIBC.vsnprintf(buf, len(buf), fmt, va_list)
    if n < 0:
        return fmt.decode(errors="replace")
    return buf.value.decode(errors="replace")


def _on_print(level: int, fmt: bytes, va_list: int | None) -> int:
    sink = getattr(_COLLECT, "sink", None)
    if sink is not None and fmt is not None:
        try:
            sink.append((level, _format(fmt, va_list)))
        except Exception:  # never let an exception cross into C
            sink.append((level, "<unformattable libbpf message>"))
    return 0


_PRINT_CALLBACK = _PRINT_FN(_on_print)


@contextmanager
def _collect_messages() -> Iterator[list[tuple[int, str]]]:
    sink: list[tuple[int, str]] = []
    _COLLECT.sink = sink
    try:
        yield sink
    finally:
        _COLLECT.sink = None


def _errno() -> int:
    return ctypes.get_errno()


# --------------------------------------------------------------------------
# Objects and programs
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    section: str


class FuncInfo(ctypes.Structure):
    """``struct bpf_func_info``: after relocation, ``insn_off`` is in slots."""

    _fields_ = (("insn_off", ctypes.c_uint32), ("type_id", ctypes.c_uint32))


class OpenOpts(ctypes.Structure):
    """libbpf 1.7's ``struct bpf_object_open_opts`` (88 bytes on 64-bit targets); libbpf
    reads ``sz`` bytes of it."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
        ("_attach_prog_fd", ctypes.c_uint32),  # "__u32 :32", once attach_prog_fd
        ("kconfig", ctypes.c_char_p),
        ("btf_custom_path", ctypes.c_char_p),
        ("kernel_log_buf", ctypes.c_char_p),
        ("kernel_log_size", ctypes.c_size_t),
        ("kernel_log_level", ctypes.c_uint32),
        ("bpf_token_path", ctypes.c_char_p),
    )


class _PrivatePins:
    """A bpffs mounted on a temporary directory, for objects that pin maps by name."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mountpoint: Path | None = None
        self.count = 0

    def new_root(self) -> Path:
        with self.lock:
            if self.mountpoint is None:
                point = Path(tempfile.mkdtemp(prefix="kptrdoc-pins-"))
                if _LIBC.mount(b"bpf", str(point).encode(), b"bpf", 0, None) != 0:
                    err = ctypes.get_errno()
                    point.rmdir()
                    raise LoaderError(
                        f"cannot mount a private bpffs for pinned maps: {os.strerror(err)}"
                    )
                self.mountpoint = point
                atexit.register(self.remove)
            self.count += 1
            root = self.mountpoint / str(self.count)
            root.mkdir()
            return root

    def remove(self) -> None:
        with self.lock:
            if self.mountpoint is not None:
                _LIBC.umount2(str(self.mountpoint).encode(), 0)
                self.mountpoint.rmdir()
                self.mountpoint = None


_PINS = _PrivatePins()


def _pins_maps(obj: int) -> bool:
    b = lib().lib
    bpf_map = b.bpf_object__next_map(obj, None)
    while bpf_map:
        if b.bpf_map__pin_path(bpf_map):
            return True
        bpf_map = b.bpf_object__next_map(obj, bpf_map)
    return False


def _open_file(obj_path: Path, messages: list[tuple[int, str]], pin_root: Path | None) -> int:
    b = lib()
    opts = None
    if pin_root is not None:
        opts = OpenOpts(sz=ctypes.sizeof(OpenOpts), pin_root_path=str(pin_root).encode())
    ctypes.set_errno(0)
    obj = b.lib.bpf_object__open_file(
        str(obj_path).encode(), ctypes.byref(opts) if opts is not None else None
    )
    if not obj:
        err = _errno()
        why = _last_warning(messages) or os.strerror(err)
        raise LoaderError(f"{obj_path}: libbpf cannot open it: {why}")
    return obj


@contextmanager
def _open(obj_path: Path) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """Open a BPF object with libbpf; always closed (and unpinned) on exit."""
    b = lib()
    with _collect_messages() as messages:
        obj = _open_file(obj_path, messages, None)
        pin_root = None
        if _pins_maps(obj):
            b.lib.bpf_object__close(obj)
            pin_root = _PINS.new_root()
            obj = _open_file(obj_path, messages, pin_root)
        try:
            yield obj, messages
        finally:
            if pin_root is not None:
                b.lib.bpf_object__unpin_maps(obj, None)
            b.lib.bpf_object__close(obj)
            if pin_root is not None:
                shutil.rmtree(pin_root, ignore_errors=True)


def _programs(obj: int) -> Iterator[tuple[int, ProgramInfo]]:
    b = lib().lib
    prog = b.bpf_object__next_program(obj, None)
    while prog:
        name = (b.bpf_program__name(prog) or b"").decode()
        section = (b.bpf_program__section_name(prog) or b"").decode()
        yield prog, ProgramInfo(name, section)
        prog = b.bpf_object__next_program(obj, prog)


def list_programs(obj_path: Path) -> list[ProgramInfo]:
    """The programs of an object, in libbpf's order, without loading anything."""
    with _open(Path(obj_path)) as (obj, _):
        return [info for _, info in _programs(obj)]


def _last_warning(messages: list[tuple[int, str]]) -> str:
    warnings = [_clean(text) for level, text in messages if level == _LIBBPF_WARN]
    return warnings[-1] if warnings else ""


def _clean(text: str) -> str:
    text = text.strip()
    return text[len("libbpf: ") :] if text.startswith("libbpf: ") else text


_GENERIC = ("failed to load object", "failed to load BPF skeleton", "BEGIN PROG LOAD LOG",
            "END PROG LOAD LOG", "processed ", "-- END")  # fmt: skip


def _reason(messages: list[tuple[int, str]]) -> str:
    """The most specific thing libbpf said about a failure: its first warning."""
    for level, text in messages:
        line = _clean(text).splitlines()[0] if text.strip() else ""
        if level == _LIBBPF_WARN and line and not any(g in line for g in _GENERIC):
            return line
    return _last_warning(messages)


def _parse_stats(log: str) -> tuple[int | None, int | None, int | None]:
    """Instructions processed, total and peak states, from the last statistics line.

    Without the ``processed N insns (limit ...)`` line, the 7.x line
    ``insns processed A+B`` gives the instruction count (its sum) alone.
    """
    matches = list(_STATS_RE.finditer(log))
    if matches:
        m = matches[-1]
        return int(m["insns"]), int(m["total"]), int(m["peak"])
    per_subprog = list(_INSNS_LINE_RE.finditer(log))
    if per_subprog:
        return sum(int(n) for n in per_subprog[-1]["parts"].split("+")), None, None
    return None, None, None


def _attempt(
    obj_path: Path, program: str, log_level: int, run: str | None
) -> tuple[ProgramInfo, int, str, list[tuple[int, str]], RunResult | None]:
    b = lib().lib
    with _open(obj_path) as (obj, messages):
        target = None
        info = None
        for prog, pinfo in _programs(obj):
            wanted = pinfo.name == program
            b.bpf_program__set_autoload(prog, wanted)
            if wanted:
                target, info = prog, pinfo
        if target is None or info is None:
            names = ", ".join(p.name for _, p in _programs(obj)) or "none"
            raise LoaderError(f"{obj_path}: no program named {program!r} (programs: {names})")
        buf = ctypes.create_string_buffer(LOG_BUF_SIZE)
        b.bpf_program__set_log_buf(target, buf, LOG_BUF_SIZE)
        b.bpf_program__set_log_level(target, log_level)
        ctypes.set_errno(0)
        rc = b.bpf_object__load(obj)
        err = -rc if rc < 0 else 0
        log = buf.value.decode(errors="replace")
        run_result = None
        if rc == 0 and run:
            run_result = _run(obj, target, run, program)
        return info, err, log, list(messages), run_result


def load_program(
    obj_path: Path | str,
    program_name: str,
    log_level: int | None = None,
    run: str | None = None,
) -> LoadResult:
    """Load one program of ``obj_path`` and report the kernel's verdict.

    ``log_level`` None (the default): one load with the full log (level 2,
    with statistics); only where that log outgrows the buffer (the kernel
    keeps its tail and says ENOSPC) is the program loaded again with level 1,
    then with statistics only. Any other value is used as is, once.
    ``run`` names a trigger (see :func:`run_triggers`): attach the loaded
    program, trigger it and record its run count before and after.
    """
    obj_path = Path(obj_path)
    if run is not None and run not in TRIGGERS:
        raise LoaderError(f"unknown run trigger {run!r} (known: {', '.join(sorted(TRIGGERS))})")
    levels = (
        [LOG_LEVEL_2 | LOG_STATS, LOG_LEVEL_1 | LOG_STATS, LOG_STATS]
        if log_level is None
        else [log_level]
    )
    messages: list[tuple[int, str]] = []
    for level in levels:
        info, err, log, more, run_result = _attempt(obj_path, program_name, level, run)
        messages += more
        if not (err == errno_mod.ENOSPC and log):
            break
    verdict, reason = _classify(info, err, log, messages)
    insns, states, peak = _parse_stats(log)
    return LoadResult(
        program=info.name,
        section=info.section,
        verdict=verdict,
        errno=err,
        reason=reason,
        log=log,
        insns_processed=insns,
        states=states,
        peak_states=peak,
        kernel_release=os.uname().release,
        libbpf_version=lib().version,
        libbpf_messages=[_clean(text) for _, text in messages],
        run=run_result,
    )


def _is_stats_line(line: str) -> bool:
    """A statistics line the verifier appends after its verdict (any kernel)."""
    return (
        bool(_STATS_RE.search(line))
        or bool(_INSNS_LINE_RE.match(line.strip()))
        or bool(_SUBPROG_STATS_RE.match(line.strip()))
        or bool(re.match(r"processed \d+ insns \(limit \d+\)", line.strip()))
        or line.startswith(("verification time", "stack depth"))
    )


def verifier_message(log: str) -> str:
    """The verifier's own last word: the last log line that is not a statistics line.

    Since 7.3 a rejection may be followed by a structured report
    (``Verification failed: ...``, ``Reason:``, ``At:``, source context); the
    message is then the last line before that report.
    """
    lines = [ln.strip() for ln in log.strip().splitlines()]
    report = next((i for i, ln in enumerate(lines) if ln.startswith("Verification failed:")), None)
    if report is not None:
        lines = lines[:report]
    lines = [ln for ln in lines if ln and not _is_stats_line(ln)]
    return lines[-1] if lines else ""


def _classify(
    info: ProgramInfo, err: int, log: str, messages: list[tuple[int, str]]
) -> tuple[str, str]:
    if err == 0:
        return LOADED, ""
    said = [_clean(text) for _, text in messages]
    attempted = any("BPF program load failed" in s or "failed to load program" in s for s in said)
    name = errno_mod.errorcode.get(err, str(err))
    if log.strip():
        last = verifier_message(log) or log.strip().splitlines()[-1]
        return REJECTED, f"verifier: {last.strip()}"
    refusals = (errno_mod.EPERM, errno_mod.EINVAL, errno_mod.EOPNOTSUPP, ENOTSUPP)
    if attempted and err in refusals:
        return REFUSED_PROGRAM_TYPE, (
            f"not verifiable on this kernel: it refused the {info.section!r} program "
            f"with {name} and an empty verifier log"
        )
    return FAILED_BEFORE_VERIFIER, _reason(messages) or f"libbpf failed with {name}"


# --------------------------------------------------------------------------
# The object's BTF as libbpf holds it: the program's tags, the globals
# --------------------------------------------------------------------------

_BTF_INT, _BTF_ENUM, _BTF_TYPEDEF, _BTF_VOLATILE, _BTF_CONST, _BTF_RESTRICT = 1, 6, 8, 9, 10, 11
_BTF_FUNC, _BTF_VAR, _BTF_DATASEC, _BTF_DECL_TAG = 12, 14, 15, 17
_BTF_TYPE_TAG, _BTF_ENUM64 = 18, 19
_BTF_INT_SIGNED = 1


@dataclass(frozen=True)
class _Global:
    """Where libbpf put a global: its section (the internal map's real name), offset, size."""

    section: str
    offset: int
    size: int
    signed: bool


class _ObjectBtf:
    """The opened object's ``.BTF`` through libbpf, which has fixed the DATASEC offsets
    and sizes from the ELF symbols. Only what a run needs: decl tags and globals.
    The kind is read with 7 bits and vlen with 24, as the 2026 layout has them
    (the classic layout leaves those extra bits zero)."""

    def __init__(self, obj: int) -> None:
        self.b = lib().lib
        self.btf = self.b.bpf_object__btf(obj)

    def _head(self, type_id: int) -> tuple[int, int, int, int, int]:
        """(name_off, kind, vlen, size_or_type, address) of a type; kind 0 when absent."""
        address = self.b.btf__type_by_id(self.btf, type_id) if self.btf else None
        if not address:
            return 0, 0, 0, 0, 0
        name_off, info, size_or_type = (ctypes.c_uint32 * 3).from_address(address)
        return name_off, (info >> 24) & 0x7F, info & 0xFFFFFF, size_or_type, address

    def _name(self, offset: int) -> str:
        return (self.b.btf__name_by_offset(self.btf, offset) or b"").decode(errors="replace")

    def _ids(self) -> range:
        return range(1, self.b.btf__type_cnt(self.btf)) if self.btf else range(0)

    def function_tags(self, function: str) -> list[str]:
        """The decl tags on the FUNC ``function`` itself, in type-id (source) order."""
        funcs = set()
        tags: list[tuple[int, str]] = []
        for type_id in self._ids():
            name_off, kind, _, target, address = self._head(type_id)
            if kind == _BTF_FUNC and self._name(name_off) == function:
                funcs.add(type_id)
            elif kind == _BTF_DECL_TAG and ctypes.c_int32.from_address(address + 12).value == -1:
                tags.append((target, self._name(name_off)))
        return [text for target, text in tags if target in funcs]

    def global_var(self, name: str) -> _Global | str:
        """Where the global ``name`` lives, or why it cannot be read as an integer."""
        for type_id in self._ids():
            name_off, kind, vlen, _, address = self._head(type_id)
            if kind != _BTF_DATASEC:
                continue
            entries = (ctypes.c_uint32 * (3 * vlen)).from_address(address + 12)
            for k in range(vlen):
                var_id, offset, size = entries[3 * k : 3 * k + 3]
                var_name_off, var_kind, _, var_type, _ = self._head(var_id)
                if var_kind == _BTF_VAR and self._name(var_name_off) == name:
                    section = self._name(name_off)
                    signed = self._integer(var_type)
                    if signed is None or size not in (1, 2, 4, 8):
                        return f"{name!r} in {section} is not an integer of 1 to 8 bytes"
                    return _Global(section, offset, size, signed)
        return f"no global variable {name!r} in the object's BTF"

    def _integer(self, type_id: int) -> bool | None:
        """Whether the integer type ``type_id`` is signed; ``None``: not an integer."""
        for _ in range(32):
            _, kind, _, size_or_type, address = self._head(type_id)
            if kind in (_BTF_TYPEDEF, _BTF_VOLATILE, _BTF_CONST, _BTF_RESTRICT, _BTF_TYPE_TAG):
                type_id = size_or_type
                continue
            if kind == _BTF_INT:
                encoding = (ctypes.c_uint32.from_address(address + 12).value >> 24) & 0x0F
                return bool(encoding & _BTF_INT_SIGNED)
            if kind in (_BTF_ENUM, _BTF_ENUM64):
                info = (ctypes.c_uint32 * 2).from_address(address)[1]
                return bool(info >> 31)
            return None
        return None


def _section_value(obj: int, where: _Global) -> tuple[int, ctypes.Array[ctypes.c_char]] | str:
    """The internal map of ``where.section`` and its whole value (key 0), or why not."""
    b = lib().lib
    bpf_map = b.bpf_object__find_map_by_name(obj, where.section.encode())
    if not bpf_map:
        return f"libbpf has no internal map for {where.section}"
    size = b.bpf_map__value_size(bpf_map)
    if where.offset + where.size > size:
        return f"{where.section} holds {size} bytes, the global ends at {where.offset + where.size}"
    key = ctypes.c_uint32(0)
    value = ctypes.create_string_buffer(size)
    rc = b.bpf_map__lookup_elem(bpf_map, ctypes.byref(key), 4, value, size, 0)
    if rc < 0:
        return f"cannot read {where.section}: {os.strerror(-rc)}"
    return bpf_map, value


def _read_global(obj: int, where: _Global) -> int | str:
    found = _section_value(obj, where)
    if isinstance(found, str):
        return found
    raw = found[1].raw[where.offset : where.offset + where.size]
    return int.from_bytes(raw, sys.byteorder, signed=where.signed)


def _write_global(obj: int, where: _Global, value: int) -> str:
    """Write ``value`` (at the global's width) into its section's map; "" or why not."""
    found = _section_value(obj, where)
    if isinstance(found, str):
        return found
    bpf_map, buf = found
    raw = (value % (1 << (8 * where.size))).to_bytes(where.size, sys.byteorder)
    ctypes.memmove(ctypes.addressof(buf) + where.offset, raw, where.size)
    key = ctypes.c_uint32(0)
    rc = lib().lib.bpf_map__update_elem(bpf_map, ctypes.byref(key), 4, buf, len(buf), 0)
    return f"cannot write {where.section}: {os.strerror(-rc)}" if rc < 0 else ""


def _wanted(spec: ValueSpec, values: RunValues) -> int | str:
    """The integer ``spec.value`` stands for in this run, or why there is none."""
    literal = literal_value(spec.value)
    if literal is not None:
        return literal
    if spec.value not in RUN_VALUES:
        return f"unknown value {spec.value!r}"
    known = values.get(spec.value)
    if known is None:
        return f"the trigger did not record {spec.value!r}"
    return known


def _set_input(obj: int, btf: _ObjectBtf, spec: ValueSpec, values: RunValues) -> ValueInput:
    where = btf.global_var(spec.variable)
    wanted = _wanted(spec, values)
    if isinstance(where, str) or isinstance(wanted, str):
        why = where if isinstance(where, str) else str(wanted)
        return ValueInput(spec.variable, spec.value, None, error=why)
    error = _write_global(obj, where, wanted)
    return ValueInput(spec.variable, spec.value, None if error else wanted, where.section,
                      where.offset, where.size, error)  # fmt: skip


def _check_value(obj: int, btf: _ObjectBtf, spec: ValueSpec, values: RunValues) -> ValueCheck:
    where = btf.global_var(spec.variable)
    wanted = _wanted(spec, values)
    expected = None if isinstance(wanted, str) else wanted
    if isinstance(where, str):
        return ValueCheck(spec.variable, spec.value, expected, None, False, error=where)
    got = _read_global(obj, where)
    place = {"section": where.section, "offset": where.offset, "size": where.size}
    if isinstance(got, str) or isinstance(wanted, str):
        why = got if isinstance(got, str) else str(wanted)
        return ValueCheck(spec.variable, spec.value, expected, None, False, error=why, **place)
    # compared at the global's width: -1 meets an unsigned int holding 0xffffffff
    ok = (wanted - got) % (1 << (8 * where.size)) == 0
    return ValueCheck(spec.variable, spec.value, wanted, got, ok, **place)


# --------------------------------------------------------------------------
# Triggers: cause an event, record what is known about it
# --------------------------------------------------------------------------


class _RunError(Exception):
    """The trigger could not cause its event; the message says why."""


_SYSCALL_NR: Mapping[str, Mapping[str, int]] = MappingProxyType({
    "x86_64": MappingProxyType({"close": 3, "getpgid": 121}),
    "aarch64": MappingProxyType({"close": 57, "getpgid": 155}),
    "riscv64": MappingProxyType({"close": 57, "getpgid": 155}),
})  # fmt: skip
"""System call numbers of the syscall triggers, per ``uname -m``."""


def _syscall_nr(name: str) -> int | None:
    return _SYSCALL_NR.get(platform.machine(), {}).get(name)


def _here() -> RunValues:
    """The calling thread: where every trigger but ``uprobe`` causes its event."""
    return RunValues(pid=threading.get_native_id(), tgid=os.getpid(), ppid=os.getppid())


class _Trigger:
    """One run's trigger. ``prepare`` records what is known before the event (what
    ``__run_set`` may write), ``attach`` attaches (``None`` from a trigger that runs the
    program itself), ``fire`` causes the event and adds what it learnt; ``cleanup``
    always runs."""

    before: tuple[str, ...] = ("pid", "tgid", "ppid", "nonce")
    after: tuple[str, ...] = ()
    output: str = ""
    """Text the event produced besides the trace buffer (an iterator's output)."""

    def prepare(self, prog: int) -> RunValues:
        return _here()

    def attach(self, prog: int, values: RunValues) -> int | None:
        ctypes.set_errno(0)
        link = lib().lib.bpf_program__attach(prog)
        if not link:
            raise _RunError(f"attach failed: {os.strerror(_errno())}")
        return link

    def fire(self, prog: int, values: RunValues) -> RunValues:
        raise NotImplementedError

    def cleanup(self) -> None:
        return None


class _Fork(_Trigger):
    """fork() a child that leaves at once; records its pid."""

    after = ("child_pid",)

    def fire(self, prog: int, values: RunValues) -> RunValues:
        pid = os.fork()
        if pid == 0:  # child: leave at once, without running Python cleanup
            os._exit(0)
        os.waitpid(pid, 0)
        return replace(values, child_pid=pid)


class _Close(_Trigger):
    """close() a descriptor of /dev/null opened for the purpose; records it."""

    before = (*_Trigger.before, "fd", "nr", "arg0")

    def __init__(self) -> None:
        self.fd: int | None = None

    def prepare(self, prog: int) -> RunValues:
        self.fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        return replace(_here(), fd=self.fd, nr=_syscall_nr("close"), args=(self.fd,))

    def fire(self, prog: int, values: RunValues) -> RunValues:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)
        return values

    def cleanup(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _Getpgid(_Trigger):
    """getpgid(getppid()): a system call with a known argument nobody else makes."""

    before = (*_Trigger.before, "nr", "arg0")

    def prepare(self, prog: int) -> RunValues:
        here = _here()
        return replace(here, nr=_syscall_nr("getpgid"), args=(here.ppid,))

    def fire(self, prog: int, values: RunValues) -> RunValues:
        with contextlib.suppress(OSError):  # the call is made all the same
            os.getpgid(values.args[0])
        return values


PACKET_PROGRAMS: Mapping[str, int] = MappingProxyType({
    "BPF_PROG_TYPE_SOCKET_FILTER": 1, "BPF_PROG_TYPE_SCHED_CLS": 3,
    "BPF_PROG_TYPE_SCHED_ACT": 4, "BPF_PROG_TYPE_XDP": 6, "BPF_PROG_TYPE_CGROUP_SKB": 8,
})  # fmt: skip
"""The program types (``enum bpf_prog_type``) that ``test_run`` gives :func:`test_packet`
(the downloads' loaders too, :mod:`kptrdoc.project.spec`)."""


def test_packet() -> bytes:
    """The packet ``test_run`` gives packet programs: Ethernet, IPv4, UDP, 8 bytes of
    payload (``kptrdoc\\0``): 10.0.0.1:4242 -> 10.0.0.2:4243, 50 bytes."""
    payload = b"kptrdoc\0"
    udp = (4242).to_bytes(2, "big") + (4243).to_bytes(2, "big")
    udp += (8 + len(payload)).to_bytes(2, "big") + b"\0\0" + payload
    ip = bytearray(b"\x45\x00" + (20 + len(udp)).to_bytes(2, "big") + b"\0\x01\x40\x00\x40\x11\0\0")
    ip += bytes([10, 0, 0, 1, 10, 0, 0, 2])
    total = sum(int.from_bytes(ip[i : i + 2], "big") for i in range(0, 20, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    ip[10:12] = (~total & 0xFFFF).to_bytes(2, "big")
    eth = bytes.fromhex("02 00 00 00 00 02  02 00 00 00 00 01  08 00")
    return eth + bytes(ip) + udp


class _TestRunOpts(ctypes.Structure):
    """``struct bpf_test_run_opts`` (libbpf 1.x)."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("data_in", ctypes.c_void_p),
        ("data_out", ctypes.c_void_p),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_void_p),
        ("ctx_out", ctypes.c_void_p),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("repeat", ctypes.c_int),
        ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    )


class _TestRun(_Trigger):
    """BPF_PROG_TEST_RUN once, in this thread: packet programs get :func:`test_packet`,
    others (``syscall``, ...) no data. Nothing is attached."""

    before = (*_Trigger.before, "pkt_len")
    after = ("retval",)

    def prepare(self, prog: int) -> RunValues:
        packet = lib().lib.bpf_program__type(prog) in PACKET_PROGRAMS.values()
        return replace(_here(), pkt_len=len(test_packet()) if packet else None)

    def attach(self, prog: int, values: RunValues) -> int | None:
        return None

    def fire(self, prog: int, values: RunValues) -> RunValues:
        b = lib().lib
        opts = _TestRunOpts(sz=ctypes.sizeof(_TestRunOpts))  # repeat 0: once (syscall wants 0)
        packet = ctypes.create_string_buffer(test_packet(), len(test_packet()))
        if values.pkt_len is not None:
            opts.data_in = ctypes.addressof(packet)
            opts.data_size_in = len(packet)
        ctypes.set_errno(0)
        rc = b.bpf_prog_test_run_opts(b.bpf_program__fd(prog), ctypes.byref(opts))
        if rc < 0:
            raise _RunError(f"BPF_PROG_TEST_RUN failed: {os.strerror(-rc)}")
        return replace(values, retval=ctypes.c_int32(opts.retval).value)


UPROBE_FUNCTION = "kptrdoc_uprobe_target"
UPROBE_ARGS = (1001, 2002, 3003, 4004, 5005, 6006)
UPROBE_SOURCE = f"""\
/* kptrdoc's uprobe target: waits for a byte on stdin, then makes one call. */
#include <unistd.h>

__attribute__((noinline)) long {UPROBE_FUNCTION}(long a, long b, long c, long d, long e, long f)
{{
	__asm__ __volatile__("" : : : "memory");
	return a + b + c + d + e + f;
}}

int main(void)
{{
	char go;

	if (read(0, &go, 1) != 1)
		return 2;
	return {UPROBE_FUNCTION}({", ".join(map(str, UPROBE_ARGS))}) == {sum(UPROBE_ARGS)} ? 0 : 1;
}}
"""


class _UprobeOpts(ctypes.Structure):
    """``struct bpf_uprobe_opts`` (libbpf 1.x)."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("ref_ctr_offset", ctypes.c_size_t),
        ("bpf_cookie", ctypes.c_uint64),
        ("retprobe", ctypes.c_bool),
        ("func_name", ctypes.c_char_p),
        ("attach_mode", ctypes.c_int),
    )


def uprobe_target() -> Path:
    """The uprobe trigger's program (:data:`UPROBE_SOURCE`): see :func:`_target_program`."""
    return _target_program("uprobe", UPROBE_FUNCTION, UPROBE_SOURCE, [])


def _cache_root() -> Path:
    env = os.environ.get("KPTRDOC_CACHE")
    if env:
        return Path(env)
    from kptrdoc import toolchain

    return toolchain.cache_dir()


def _target_program(trigger: str, name: str, source: str, flags: list[str]) -> Path:
    """A trigger's small C program, built with the system's C compiler on first use into
    kptrdoc's cache (a temporary directory where the cache is read-only, as in a matrix
    guest, removed at exit)."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise _RunError(f"{trigger}: no C compiler (gcc or cc) to build the target program")
    key = sha256("\0".join([compiler, source, *flags]).encode()).hexdigest()[:16]
    try:
        folder = _cache_root() / trigger / key
        binary = folder / name
        if os.access(binary, os.X_OK):
            return binary
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise OSError(errno_mod.EROFS, "read-only", str(folder))
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix=f"kptrdoc-{trigger}-"))
        atexit.register(shutil.rmtree, folder, True)
        binary = folder / name
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    try:
        (work / "target.c").write_text(source)
        cmd = [compiler, "-O0", "-g0", *flags, "-o", str(work / name), str(work / "target.c")]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
        except subprocess.TimeoutExpired:
            raise _RunError(f"{trigger}: {compiler} took over 300 s to build the target") from None
        if proc.returncode != 0:
            said = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise _RunError(f"{trigger}: cannot build the target program: {said}")
        (work / name).replace(binary)  # atomic: parallel builders agree
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary


class _Uprobe(_Trigger):
    """A process of :func:`uprobe_target` calls ``kptrdoc_uprobe_target(1001, 2002, 3003,
    4004, 5005, 6006)`` (six arguments: all in registers on x86-64 and arm64; it returns
    their sum, 21021); the program is attached to that function in that process only
    (a ``uretprobe`` section: at its return)."""

    before = (*_Trigger.before, "arg0", "arg1", "arg2", "arg3", "arg4", "arg5")
    after = ("retval",)
    label = "uprobe"

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.binary: Path | None = None

    def prepare(self, prog: int) -> RunValues:
        return self._start(uprobe_target(), UPROBE_ARGS)

    def _start(self, binary: Path, args: tuple[int, ...]) -> RunValues:
        """Start the target program, waiting on stdin until :meth:`fire`."""
        self.binary = binary
        self.child = subprocess.Popen(
            [str(binary)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pid = self.child.pid
        return RunValues(pid=pid, tgid=pid, ppid=os.getpid(), args=args)

    def attach(self, prog: int, values: RunValues) -> int | None:
        b = lib().lib
        section = (b.bpf_program__section_name(prog) or b"").decode()
        opts = _UprobeOpts(sz=ctypes.sizeof(_UprobeOpts), func_name=UPROBE_FUNCTION.encode(),
                           retprobe=section.startswith("uretprobe"))  # fmt: skip
        ctypes.set_errno(0)
        link = b.bpf_program__attach_uprobe_opts(
            prog, values.tgid, str(self.binary).encode(), 0, ctypes.byref(opts)
        )
        if not link:
            raise _RunError(f"attach failed: {os.strerror(_errno())}")
        return link

    def fire(self, prog: int, values: RunValues) -> RunValues:
        child = self.child
        if child is None or child.stdin is None:
            raise _RunError(f"{self.label}: the target program is not running")
        try:
            child.stdin.write(b"x")
            child.stdin.close()
            rc = child.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _RunError(f"{self.label}: the target program did not finish: {exc}") from None
        if rc != 0:
            raise _RunError(f"{self.label}: the target program exited with {rc}")
        return replace(values, retval=sum(UPROBE_ARGS))

    def cleanup(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait()
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()


USDT_PROVIDER, USDT_NAME = "kptrdoc", "args"
USDT_ARGS = (1001, -2002, 3003)
USDT_SOURCE = f"""\
/* kptrdoc's usdt target: waits for a byte on stdin, then passes one USDT probe. */
#include <sys/sdt.h>
#include <unistd.h>

int main(void)
{{
	volatile long a = {USDT_ARGS[0]}, b = {USDT_ARGS[1]}, c = {USDT_ARGS[2]};
	char go;

	if (read(0, &go, 1) != 1)
		return 2;
	DTRACE_PROBE3({USDT_PROVIDER}, {USDT_NAME}, a, b, c);
	return 0;
}}
"""


def usdt_target() -> Path:
    """The usdt trigger's program (:data:`USDT_SOURCE`), built against systemtap's
    ``sys/sdt.h`` from kptrdoc's cache (fetched there by ``make setup``; a matrix guest
    only finds it)."""
    from kptrdoc import toolchain
    from kptrdoc.errors import KptrdocError

    try:
        include = toolchain.sdt_include_dir(fetch=os.access(_cache_root(), os.W_OK))
    except KptrdocError as exc:
        raise _RunError(f"usdt: {exc}") from None
    return _target_program("usdt", "kptrdoc_usdt_target", USDT_SOURCE, ["-I", str(include)])


class _Usdt(_Uprobe):
    """A process of :func:`usdt_target` passes the USDT probe ``kptrdoc:args`` with the
    arguments 1001, -2002 and 3003; the program (``SEC("usdt")``) is attached to that probe
    in that process only."""

    before = (*_Trigger.before, "arg0", "arg1", "arg2")
    after = ()
    label = "usdt"

    def prepare(self, prog: int) -> RunValues:
        return self._start(usdt_target(), USDT_ARGS)

    def attach(self, prog: int, values: RunValues) -> int | None:
        ctypes.set_errno(0)
        link = lib().lib.bpf_program__attach_usdt(
            prog, values.tgid, str(self.binary).encode(), USDT_PROVIDER.encode(),
            USDT_NAME.encode(), None,
        )  # fmt: skip
        if not link:
            raise _RunError(f"attach failed: {os.strerror(_errno())}")
        return link

    def fire(self, prog: int, values: RunValues) -> RunValues:
        super().fire(prog, values)
        return values


class _Iter(_Trigger):
    """A BPF iterator (``SEC("iter/...")``): attach it, create an iterator from the link in
    this thread and read it to the end; what the program wrote (``BPF_SEQ_PRINTF``) is the
    run's output, where ``__run_printed`` looks first."""

    def __init__(self) -> None:
        self.link: int | None = None

    def attach(self, prog: int, values: RunValues) -> int | None:
        self.link = super().attach(prog, values)
        return self.link

    def fire(self, prog: int, values: RunValues) -> RunValues:
        b = lib().lib
        if not self.link:
            raise _RunError("iter: not attached")
        ctypes.set_errno(0)
        fd = b.bpf_iter_create(b.bpf_link__fd(self.link))
        if fd < 0:
            raise _RunError(f"iter: bpf_iter_create failed: {os.strerror(-fd)}")
        chunks = []
        try:
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
                if sum(map(len, chunks)) > ITER_OUTPUT_LIMIT:
                    break
        finally:
            os.close(fd)
        self.output = b"".join(chunks).decode(errors="replace")
        return values


ITER_OUTPUT_LIMIT = 1 << 22
"""How much of an iterator's output a run reads (4 MiB)."""


TRIGGERS: Mapping[str, type[_Trigger]] = MappingProxyType({
    "fork": _Fork,
    "close": _Close,
    "getpgid": _Getpgid,
    "test_run": _TestRun,
    "uprobe": _Uprobe,
    "usdt": _Usdt,
    "iter": _Iter,
})  # fmt: skip


def run_triggers() -> list[str]:
    return sorted(TRIGGERS)


def trigger_values(trigger: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The values ``trigger`` records: (known before the event, known only after)."""
    cls = TRIGGERS[trigger]
    return cls.before, cls.after


# --------------------------------------------------------------------------
# Running: set the inputs, attach, trigger, read the run count and the checks
# --------------------------------------------------------------------------


class _RunCount:
    """The program's run count from its fdinfo, kept open and re-read with ``pread``,
    so that reading it makes no ``open``/``close`` a ``close`` hook would see."""

    def __init__(self, prog_fd: int) -> None:
        self.fd = os.open(f"/proc/self/fdinfo/{prog_fd}", os.O_RDONLY | os.O_CLOEXEC)

    def read(self) -> int:
        text = os.pread(self.fd, 64 * 1024, 0).decode(errors="replace")
        match = re.search(r"^run_cnt:\s*(\d+)", text, re.M)
        return int(match.group(1)) if match else 0

    def close(self) -> None:
        os.close(self.fd)


def _run_cnt(prog_fd: int) -> int:
    counter = _RunCount(prog_fd)
    try:
        return counter.read()
    finally:
        counter.close()


def _run(obj: int, prog: int, trigger: str, program: str) -> RunResult:
    """Attach ``prog``, cause ``trigger``'s event, and read back what the program's
    ``__run_check`` ask for (before detaching: detaching makes system calls too)."""
    b = lib().lib
    btf = _ObjectBtf(obj)
    expect = parse_tags(btf.function_tags(program))
    result = RunResult(trigger, 0, 0)
    ctypes.set_errno(0)
    stats_fd = b.bpf_enable_stats(BPF_STATS_RUN_TIME)
    if stats_fd < 0:
        result.error = f"bpf_enable_stats failed: {os.strerror(-stats_fd)}"
        return result
    runner = TRIGGERS[trigger]()
    counter = None
    link = None
    try:
        counter = _RunCount(b.bpf_program__fd(prog))
        values = runner.prepare(prog)
        result.values = values.known()
        result.inputs = [_set_input(obj, btf, spec, values) for spec in expect.inputs]
        failed = next((i for i in result.inputs if i.error), None)
        if failed is not None:
            said = ValueSpec(failed.variable, failed.value).describe("__run_set")
            result.error = f"{said}: {failed.error}"
            return result
        link = runner.attach(prog, values)
        result.run_cnt_before = counter.read()
        try:
            values = runner.fire(prog, values)
        finally:
            result.run_cnt_after = counter.read()
        result.values = values.known()
        result.checks = [_check_value(obj, btf, spec, values) for spec in expect.checks]
        if expect.printed:
            output = runner.output + _read_streams(b.bpf_program__fd(prog))
            result.printed = _check_printed(expect.printed, result.values, output)
    except _RunError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{trigger}: {exc}"
    finally:
        if link:
            b.bpf_link__destroy(link)
        runner.cleanup()
        if counter is not None:
            counter.close()
        os.close(stats_fd)
    return result


BPF_STREAMS = (1, 2)
"""The program's own streams, ``BPF_STDOUT`` and ``BPF_STDERR`` (``enum bpf_stream_id``)."""

STREAM_READ_LIMIT = 1 << 20
"""How much of each stream a run reads (1 MiB)."""


def _read_streams(prog_fd: int) -> str:
    """What the program wrote to its BPF streams (``bpf_stream_printk``), stdout then
    stderr, read with libbpf's ``bpf_prog_stream_read``. A kernel without streams answers
    with an error, and nothing was written there."""
    b = lib().lib
    buf = ctypes.create_string_buffer(64 * 1024)
    text = []
    for stream in BPF_STREAMS:
        total = 0
        while total < STREAM_READ_LIMIT:
            n = b.bpf_prog_stream_read(prog_fd, stream, buf, len(buf), None)
            if n <= 0:
                break
            text.append(buf.raw[:n].decode(errors="replace"))
            total += n
    return "".join(text)


TRACE_BUFFERS = (Path("/sys/kernel/tracing/trace"), Path("/sys/kernel/debug/tracing/trace"))
"""Where the kernel's trace buffer is read (tracefs, or through debugfs)."""


def _trace_buffer() -> Path:
    """The trace buffer file, mounting tracefs at /sys/kernel/tracing if nothing is
    mounted (a matrix guest boots without it)."""
    for path in TRACE_BUFFERS:
        if path.exists():
            return path
    libc = ctypes.CDLL(None, use_errno=True)
    target = TRACE_BUFFERS[0].parent
    if libc.mount(b"tracefs", str(target).encode(), b"tracefs", 0, None) != 0:
        errno = ctypes.get_errno()
        raise _RunError(f"no trace buffer: mounting tracefs on {target}: {os.strerror(errno)}")
    return TRACE_BUFFERS[0]


def _check_printed(
    templates: tuple[str, ...], values: dict[str, int], output: str = ""
) -> list[PrintedCheck]:
    """Look for each ``__run_printed`` text in what the run printed: ``output`` (an
    iterator's, and the program's BPF streams) first, then the trace buffer, read as it is (not
    the consuming trace_pipe: parallel tests read the same buffer; each finds its own lines
    by the run's values, such as its nonce)."""
    out = []
    try:
        lines = _trace_buffer().read_text(errors="replace").splitlines()
        problem = ""
    except (OSError, _RunError) as exc:
        lines, problem = [], str(exc)
    lines = output.splitlines() + lines
    for template in templates:
        text = printed_text(template, values)
        if text is None:
            out.append(PrintedCheck(template, "", False, error="a value it names was not recorded"))
            continue
        line = next((ln for ln in lines if text in ln), "")
        error = problem or (
            "" if line else f"{text!r} is not in the trace buffer or the program's streams"
        )
        out.append(PrintedCheck(template, text, bool(line), line.strip(), error))
    return out


# --------------------------------------------------------------------------
# The kernel's view: ids of loaded objects, for leak checks
# --------------------------------------------------------------------------


def kernel_object_ids() -> dict[str, list[int]]:
    """Ids of every BPF program, map and link the kernel holds right now."""
    b = lib().lib
    out: dict[str, list[int]] = {}
    for kind, fn in (("progs", b.bpf_prog_get_next_id), ("maps", b.bpf_map_get_next_id),
                     ("links", b.bpf_link_get_next_id)):  # fmt: skip
        ids: list[int] = []
        current = ctypes.c_uint32(0)
        nxt = ctypes.c_uint32(0)
        while fn(current.value, ctypes.byref(nxt)) == 0:
            ids.append(nxt.value)
            current.value = nxt.value
        out[kind] = ids
    return out


def kernel_access() -> str:
    """Why this process cannot load BPF programs, or "" when it can."""
    btf = Path("/sys/kernel/btf/vmlinux")
    if not btf.exists():
        return f"{btf} is missing: the kernel has no BTF"
    try:
        b = lib().lib
    except KptrdocError as exc:
        return str(exc)
    with _collect_messages():
        rc = b.libbpf_probe_bpf_prog_type(1, None)  # BPF_PROG_TYPE_SOCKET_FILTER
    if rc == 1:
        return ""
    # the probe folds every failure into 0; listing program ids tells EPERM apart
    nxt = ctypes.c_uint32(0)
    err = b.bpf_prog_get_next_id(0, ctypes.byref(nxt))
    if rc < 0 or err in (-errno_mod.EPERM, -errno_mod.EACCES):
        return (
            "bpf() is not permitted to this process (EPERM): "
            "run as root or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"
        )
    return "the kernel refused a minimal BPF program (socket filter): BPF looks unavailable"


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kptrdoc.loader",
        description="Load each program of a BPF object into the running kernel and report.",
    )
    parser.add_argument("object", type=Path)
    parser.add_argument("programs", nargs="*", help="program names (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of results")
    parser.add_argument("--run", choices=run_triggers(), help="attach and trigger loaded programs")
    args = parser.parse_args(argv)
    try:
        names = args.programs or [p.name for p in list_programs(args.object)]
        results = [load_program(args.object, name, run=args.run) for name in names]
    except KptrdocError as exc:
        print(f"kptrdoc: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump([r.to_json() for r in results], sys.stdout, indent=2)
        print()
    else:
        for r in results:
            stats = f", {r.insns_processed} insns" if r.insns_processed is not None else ""
            why = f": {r.reason}" if r.reason else ""
            print(f"{r.program} ({r.section}): {r.verdict}{stats}{why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
