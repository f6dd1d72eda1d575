"""Helpers of the CO-RE tests: a fixture sample, the recorded kernels' BTF, independent truths.

The truths here do not go through :mod:`kptrdoc.core`: libbpf's log is read
from runs of libbpf set up by this module (its own ctypes handle and open
options), member offsets come from ``pahole``, and kernel object ids from
``bpf_*_get_next_id``.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECORD = REPO / "samples" / "matrix.lock.json"
HOST_BTF = Path("/sys/kernel/btf/vmlinux")

# Every CO-RE relocation kind libbpf knows, from one program (and one subprogram).
KINDS_SAMPLE = r"""
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

/* a flavor with a made-up field: no kernel has it */
struct task_struct___made_up {
	int no_such_field;
} __attribute__((preserve_access_index));

/* a field that 7.2 moved into task_struct.futex: present on 6.x only */
struct task_struct___old {
	void *robust_list;
} __attribute__((preserve_access_index));

/* a subset of task_struct: matches every kernel's (bpf_core_type_matches) */
struct task_struct___subset {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

/* task_struct.flags (an unsigned int) read as 8 bytes: libbpf narrows the load */
struct task_struct___wide {
	unsigned long flags;
} __attribute__((preserve_access_index));

/* no kernel has these */
enum made_up_enum___x { MADE_UP_VALUE = 7 };
struct made_up_struct___x { int a; };

__u64 out[32];

/* two subprograms and two programs in one section each: the second of each starts at a
 * non-zero offset, so its instructions are numbered from its own start */
static __noinline int sub_pid(struct task_struct *t)
{
	return BPF_CORE_READ(t, pid) + 1;
}

static __noinline int sub_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

SEC("tp_btf/task_newtask")
__success
int BPF_PROG(first, struct task_struct *task, u64 clone_flags)
{
	out[20] = task->pid;
	out[21] = sub_pid(task);
	return 0;
}

SEC("tp_btf/task_newtask")
__success
int BPF_PROG(kinds, struct task_struct *task, u64 clone_flags)
{
	struct task_struct___old *old = (void *)task;

	out[0] = task->tgid;
	out[1] = bpf_core_field_exists(task->tgid);
	out[2] = bpf_core_field_size(task->comm);
	out[3] = bpf_core_field_offset(task->pid);
	out[4] = BPF_CORE_READ_BITFIELD(task, sched_reset_on_fork);
	out[5] = BPF_CORE_READ_BITFIELD(task, prio);
	out[6] = bpf_core_type_id_local(struct task_struct);
	out[7] = bpf_core_type_id_kernel(struct task_struct);
	out[8] = bpf_core_type_exists(struct task_struct);
	out[9] = bpf_core_type_matches(struct list_head);
	out[10] = bpf_core_type_matches(struct task_struct___subset);
	out[11] = bpf_core_type_size(struct task_struct);
	out[12] = bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_map_lookup_elem);
	out[13] = bpf_core_enum_value(enum cpuhp_state, CPUHP_AP_ONLINE_DYN);
	out[14] = bpf_core_field_exists(((struct task_struct___made_up *)task)->no_such_field);
	if (bpf_core_field_exists(old->robust_list))
		out[15] = (__u64)BPF_CORE_READ(old, robust_list);
	out[16] = bpf_core_type_exists(struct made_up_struct___x);
	out[17] = bpf_core_enum_value_exists(enum made_up_enum___x, MADE_UP_VALUE);
	out[18] = sub_tgid(task);
	out[19] = sub_pid(task);
	out[22] = ((struct task_struct___wide *)task)->flags;
	/* an int on 6.x, a byte on 7.x: a load of the wrong size is poisoned */
	if (bpf_core_field_size(task->on_cpu) == sizeof(task->on_cpu))
		out[23] = task->on_cpu;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""


def skip_or_fail(reason: str) -> None:
    """Skip, or fail under ``CI=true`` (a skip in CI hides a missing piece)."""
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: not skipped)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class TargetKernel:
    label: str  # "6.1 (bookworm)", "host"
    btf: Path


def recorded_labels() -> list[str]:
    """The labels of the kernels the matrix record pins (read at collection time)."""
    from kptrdoc.matrix.record import Record

    return [k.label for k in Record.load(RECORD).kernels]


def recorded_kernel(label: str) -> TargetKernel:
    """The BTF file of a recorded kernel, from the cache (skip_or_fail when unavailable)."""
    from kptrdoc.errors import KptrdocError
    from kptrdoc.matrix.kernels import btf_file, fetch
    from kptrdoc.matrix.record import Record

    (k,) = [k for k in Record.load(RECORD).kernels if k.label == label]
    try:
        return TargetKernel(label, btf_file(fetch(k.suite, k.packages)))
    except KptrdocError as exc:
        skip_or_fail(f"the BTF of kernel {label} is not available: {exc}")
        raise AssertionError("unreachable") from None


def host_kernel() -> TargetKernel:
    if not HOST_BTF.exists():
        skip_or_fail(f"{HOST_BTF} is missing: the running kernel has no BTF")
    return TargetKernel("host", HOST_BTF)


def bpf_access() -> None:
    """skip_or_fail unless this process may use bpf() (libbpf's prepare needs it)."""
    from kptrdoc.loader import kernel_access

    reason = kernel_access()
    if reason:
        skip_or_fail(reason)


# --------------------------------------------------------------------------
# libbpf, set up here: its own log of a relocation run
# --------------------------------------------------------------------------


class OpenOpts(ctypes.Structure):
    """``struct bpf_object_open_opts`` of libbpf 1.7, written out again from libbpf.h."""

    _fields_ = (
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
        ("_stub", ctypes.c_uint32),
        ("kconfig", ctypes.c_char_p),
        ("btf_custom_path", ctypes.c_char_p),
        ("kernel_log_buf", ctypes.c_char_p),
        ("kernel_log_size", ctypes.c_size_t),
        ("kernel_log_level", ctypes.c_uint32),
        ("bpf_token_path", ctypes.c_char_p),
    )


@dataclass(frozen=True)
class LogPatch:
    """One ``patched insn`` / ``substituting insn`` line of libbpf's debug log."""

    program: str
    relo: int
    insn: int
    what: str  # "imm", "off", "imm64", "mem_sz", or "poison"
    old: int | None
    new: int | None


_LINE = re.compile(
    r"prog '(?P<prog>[^']+)': relo #(?P<relo>\d+): "
    r"(?:patched insn #(?P<insn>\d+) \([A-Z0-9/]+\) (?P<what>\w+) (?P<old>\d+) -> (?P<new>\d+)"
    r"|substituting insn #(?P<pinsn>\d+) w/ invalid insn)"
)


def patch_lines(messages: list[str]) -> list[LogPatch]:
    out = []
    for text in messages:
        for m in _LINE.finditer(text):
            prog, relo = m["prog"], int(m["relo"])
            if m["pinsn"] is not None:
                out.append(LogPatch(prog, relo, int(m["pinsn"]), "poison", None, None))
            else:
                old, new = int(m["old"]), int(m["new"])
                out.append(LogPatch(prog, relo, int(m["insn"]), m["what"], old, new))
    return out


def libbpf_load_log(obj: Path, btf: Path) -> list[str]:
    """libbpf's messages from ``bpf_object__load`` of ``obj`` with ``btf`` as the kernel's BTF.

    A real load (every program, maps created): the programs may well be
    rejected by the running kernel when ``btf`` is another kernel's, but libbpf
    logs every CO-RE relocation before it loads anything. Closed at the end.
    """
    from kptrdoc import loader

    loader.lib()  # installs the print callback
    so = ctypes.CDLL(str(loader.libbpf_so()), use_errno=True)
    vp = ctypes.c_void_p
    so.bpf_object__open_file.restype = vp
    so.bpf_object__open_file.argtypes = [ctypes.c_char_p, vp]
    so.bpf_object__load.restype = ctypes.c_int
    so.bpf_object__load.argtypes = [vp]
    so.bpf_object__close.restype = None
    so.bpf_object__close.argtypes = [vp]
    so.bpf_object__next_program.restype = vp
    so.bpf_object__next_program.argtypes = [vp, vp]
    so.bpf_program__set_autoload.restype = ctypes.c_int
    so.bpf_program__set_autoload.argtypes = [vp, ctypes.c_bool]
    opts = OpenOpts(sz=ctypes.sizeof(OpenOpts), btf_custom_path=str(btf).encode())
    with loader._collect_messages() as messages:
        handle = so.bpf_object__open_file(str(obj).encode(), ctypes.byref(opts))
        assert handle, f"libbpf cannot open {obj}: {messages}"
        try:
            prog = so.bpf_object__next_program(handle, None)
            while prog:
                so.bpf_program__set_autoload(prog, True)
                prog = so.bpf_object__next_program(handle, prog)
            so.bpf_object__load(handle)
        finally:
            so.bpf_object__close(handle)
    return [text for _, text in messages]


def same_bits(a: int, b: int, bits: int) -> bool:
    mask = (1 << bits) - 1
    return (a & mask) == (b & mask)


OPERAND_BITS = {"imm": 32, "off": 16, "imm64": 64}


# --------------------------------------------------------------------------
# pahole
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PaholeMember:
    name: str
    offset: int  # bytes
    bit: int | None  # bit position for bitfields
    size: int  # bytes


@dataclass(frozen=True)
class PaholeStruct:
    name: str
    size: int
    members: dict[str, PaholeMember]  # direct members (one tab in), by name


_PAHOLE_MEMBER = re.compile(
    r"^\t(?P<decl>[^\t/].*?)\b(?P<name>\w+)(?:\[\d+\])*(?::\d+)?;\s*"
    r"/\*\s*(?P<off>\d+)(?::\s*(?P<bit>\d+))?\s+(?P<size>\d+)\s*\*/"
)
_PAHOLE_SIZE = re.compile(r"^\t/\* size: (?P<size>\d+),")


def pahole_struct(btf: Path, name: str) -> PaholeStruct:
    """``pahole -C name -F btf btf``: the direct members' offsets and sizes, and the size."""
    if not shutil.which("pahole"):
        skip_or_fail("pahole is not installed: no second opinion on member offsets")
    proc = subprocess.run(
        ["pahole", "-C", name, "-F", "btf", str(btf)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    members: dict[str, PaholeMember] = {}
    size = None
    for line in proc.stdout.splitlines():
        if m := _PAHOLE_MEMBER.match(line):
            bit = int(m["bit"]) if m["bit"] is not None else None
            members[m["name"]] = PaholeMember(m["name"], int(m["off"]), bit, int(m["size"]))
        elif m := _PAHOLE_SIZE.match(line):
            size = int(m["size"])
    assert size is not None and members, f"pahole printed no struct {name}:\n{proc.stdout[:500]}"
    return PaholeStruct(name, size, members)


# --------------------------------------------------------------------------
# The kernel's objects, for leak checks (BTF objects included)
# --------------------------------------------------------------------------


def kernel_ids() -> dict[str, set[int]]:
    """Ids of every program, map, link and BTF object the kernel holds now."""
    from kptrdoc import loader

    so = ctypes.CDLL(str(loader.libbpf_so()), use_errno=True)
    out: dict[str, set[int]] = {}
    for kind in ("prog", "map", "link", "btf"):
        fn = getattr(so, f"bpf_{kind}_get_next_id")
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32)]
        ids: set[int] = set()
        current, nxt = ctypes.c_uint32(0), ctypes.c_uint32(0)
        while fn(current.value, ctypes.byref(nxt)) == 0:
            ids.add(nxt.value)
            current.value = nxt.value
        out[kind] = ids
    return out


def new_kernel_ids(before: dict[str, set[int]], wait: float = 5.0) -> dict[str, list[int]]:
    """Ids present now and not in ``before``, after waiting up to ``wait`` s for them to go
    (the kernel frees closed objects from a work queue, a moment later)."""
    deadline = time.monotonic() + wait
    while True:
        now = kernel_ids()
        new = {kind: sorted(now[kind] - before[kind]) for kind in now}
        if not any(new.values()) or time.monotonic() > deadline:
            return new
        time.sleep(0.1)
