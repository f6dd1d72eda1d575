"""Load one program of a BPF object into the running kernel through libbpf (ctypes).

Standard library only, so the kernel matrix can run it inside a guest::

    python -m kptrdoc.loader OBJ [PROGRAM ...] --json

For each program: open the object, autoload only that program, give it a
log buffer, load, read the verdict, the verifier log and its statistics,
optionally attach and trigger it, then close everything. Nothing stays
attached, every fd is closed by ``bpf_object__close``. An object whose maps
ask to be pinned (``LIBBPF_PIN_BY_NAME``) is opened with a pin root in a
private bpffs mount of this process, unpinned after the load and the mount
removed at exit: nothing is ever pinned under ``/sys/fs/bpf``.

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
import ctypes
import errno as errno_mod
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kptrdoc.errors import KptrdocError

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


@dataclass
class RunResult:
    """What happened when the program was attached and its event triggered."""

    trigger: str
    run_cnt_before: int
    run_cnt_after: int
    error: str = ""

    @property
    def ran(self) -> bool:
        return not self.error and self.run_cnt_after > self.run_cnt_before


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
            "bpf_program__set_log_level": (i, [vp, u32]),
            "bpf_program__set_log_buf": (i, [vp, vp, ctypes.c_size_t]),
            "bpf_program__fd": (i, [vp]),
            "bpf_program__attach": (vp, [vp]),
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


class _OpenOpts(ctypes.Structure):
    """The head of ``struct bpf_object_open_opts``: libbpf reads ``sz`` bytes of it."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
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
        opts = _OpenOpts(sz=ctypes.sizeof(_OpenOpts), pin_root_path=str(pin_root).encode())
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
            run_result = _run(target, run)
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
# Running: attach, trigger, read the run count
# --------------------------------------------------------------------------


def _trigger_fork() -> None:
    pid = os.fork()
    if pid == 0:  # child: leave at once, without running Python cleanup
        os._exit(0)
    os.waitpid(pid, 0)


TRIGGERS: dict[str, Callable[[], None]] = {"fork": _trigger_fork}


def run_triggers() -> list[str]:
    return sorted(TRIGGERS)


def _run_cnt(prog_fd: int) -> int:
    text = Path(f"/proc/self/fdinfo/{prog_fd}").read_text()
    match = re.search(r"^run_cnt:\s*(\d+)", text, re.M)
    return int(match.group(1)) if match else 0


def _run(prog: int, trigger: str) -> RunResult:
    b = lib().lib
    prog_fd = b.bpf_program__fd(prog)
    ctypes.set_errno(0)
    stats_fd = b.bpf_enable_stats(BPF_STATS_RUN_TIME)
    if stats_fd < 0:
        return RunResult(trigger, 0, 0, f"bpf_enable_stats failed: {os.strerror(-stats_fd)}")
    try:
        ctypes.set_errno(0)
        link = b.bpf_program__attach(prog)
        if not link:
            return RunResult(trigger, 0, 0, f"attach failed: {os.strerror(_errno())}")
        try:
            before = _run_cnt(prog_fd)
            TRIGGERS[trigger]()
            after = _run_cnt(prog_fd)
        finally:
            b.bpf_link__destroy(link)
        return RunResult(trigger, before, after)
    finally:
        os.close(stats_fd)


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
