"""Helpers of the checked-run tests: the harness helpers, the sample with a program per
trigger, and kernel objects by name."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

_HARNESS = str(Path(__file__).resolve().parents[1] / "harness")
if _HARNESS not in sys.path:  # one set of helpers for the sample harness and its runs
    sys.path.insert(0, _HARNESS)

from harness_support import (  # noqa: E402
    HEADERS,
    LICENSE,
    REPO,
    kernel,
    new_kernel_objects,
    run_pytest,
    write_sample,
)

__all__ = ["HEADERS", "LICENSE", "REPO", "RUNS", "TRIGGERED", "kernel", "leftovers",
           "object_names", "run_pytest", "write_sample"]  # fmt: skip

RUNS = """
#include <bpf/bpf_core_read.h>

/* given by user space before the event (__run_set) */
int target_tgid;
long want_nr;
/* read back by user space after it (__run_check) */
int parent_tgid, child_seen;
int closed_fd = -1;
long pgid_arg;
unsigned int last_verdict, pkt_seen;
long syscall_ret;
long uprobe_b, uprobe_ret;
int uprobe_tgid;

static bool ours(void)
{
	return bpf_get_current_pid_tgid() >> 32 == target_tgid;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("target_tgid", "tgid")
__run_check("parent_tgid", "tgid") __run_check("child_seen", "child_pid")
int BPF_PROG(fork_parent, struct task_struct *task, u64 clone_flags)
{
	if (!ours())
		return 0;
	parent_tgid = bpf_get_current_pid_tgid() >> 32;
	child_seen = task->pid;
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("target_tgid", "tgid") __run_check("parent_tgid", "child_pid")
int BPF_PROG(fork_wrong, struct task_struct *task, u64 clone_flags)
{
	if (ours())
		parent_tgid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

SEC("tp_btf/sys_enter")
__success __run("close") __run_set("target_tgid", "tgid") __run_set("want_nr", "nr")
__run_check("closed_fd", "fd") __run_check("closed_fd", "arg0")
int BPF_PROG(close_fd, struct pt_regs *regs, long id)
{
	if (!ours() || id != want_nr)
		return 0;
	closed_fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}

SEC("raw_tp/sys_enter")
__success __run("getpgid") __run_set("target_tgid", "tgid") __run_set("want_nr", "nr")
__run_check("pgid_arg", "arg0")
int BPF_PROG(getpgid_arg, struct pt_regs *regs, long id)
{
	if (!ours() || id != want_nr)
		return 0;
	pgid_arg = PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}

SEC("xdp")
__success __run("test_run") __run_check("last_verdict", "retval")
__run_check("last_verdict", "2") __run_check("pkt_seen", "pkt_len")
int xdp_verdict(struct xdp_md *ctx)
{
	pkt_seen = ctx->data_end - ctx->data;
	last_verdict = pkt_seen >= 42 ? XDP_PASS : XDP_DROP;
	return last_verdict;
}

SEC("syscall")
__success __run("test_run") __run_check("syscall_ret", "retval") __run_check("syscall_ret", "-7")
int syscall_prog(void *ctx)
{
	syscall_ret = -7;
	return syscall_ret;
}

SEC("uprobe")
__success __run("uprobe") __run_check("uprobe_b", "arg1") __run_check("uprobe_tgid", "tgid")
int BPF_UPROBE(uprobe_entry, long a, long b, long c)
{
	uprobe_b = b;
	uprobe_tgid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

SEC("uretprobe")
__success __run("uprobe") __run_check("uprobe_ret", "retval")
int BPF_URETPROBE(uprobe_return, long ret)
{
	uprobe_ret = ret;
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
__success __run("close") __run_set("target_tgid", "tgid") __run_check("closed_fd", "fd")
int close_tracepoint(struct trace_event_raw_sys_enter *ctx)
{
	if (ours())
		closed_fd = ctx->args[0];
	return 0;
}
"""


STREAMS = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

/* the kfunc in its KF_IMPLICIT_ARGS form, or the 6.18 form with the aux argument */
extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
	__u32 len__sz) __ksym __weak;
extern int bpf_stream_vprintk_impl(int stream_id, const char *fmt__str, const void *args,
	__u32 len__sz, void *aux__prog) __ksym __weak;

int nonce = 0;
int streamed = 1;

static int stream(int id, __u64 value)
{
	static const char fmt[] = "kptrdoc-test %d streamed %d\\n";
	__u64 args[2] = { nonce, value };

	if (bpf_ksym_exists(bpf_stream_vprintk))
		return bpf_stream_vprintk(id, fmt, args, sizeof(args));
	if (bpf_ksym_exists(bpf_stream_vprintk_impl))
		return bpf_stream_vprintk_impl(id, fmt, args, sizeof(args), NULL);
	return -1000;	/* NO_STREAM_KFUNC */
}

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("streamed", "0")
__run_printed("kptrdoc-test {nonce} streamed 7")
int streams_seven(void *ctx)
{
	streamed = stream(BPF_STDOUT, 7);
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("streamed", "0")
__run_printed("kptrdoc-test {nonce} streamed 8")
int streams_seven_not_eight(void *ctx)
{
	streamed = stream(BPF_STDERR, 7);
	return 0;
}
"""
"""Two programs that print to their BPF streams, with whichever form of the kfunc the kernel
has: ``__run_printed`` must find the first's line in the stream, and miss the second's."""

NO_STREAM_KFUNC = -1000
"""What STREAMS' ``streamed`` holds on a kernel with neither form of the kfunc."""


TRIGGERED = (
    ("fork_parent", "fork"),
    ("close_fd", "close"),
    ("getpgid_arg", "getpgid"),
    ("xdp_verdict", "test_run"),
    ("syscall_prog", "test_run"),
    ("uprobe_entry", "uprobe"),
    ("uprobe_return", "uprobe"),
    ("close_tracepoint", "close"),
)

# struct bpf_prog_info: name[16] at offset 64; struct bpf_map_info: name[16] at offset 24
_NAME_AT = {"progs": 64, "maps": 24}
_INFO_SIZE = 256


def _name(kind: str, object_id: int) -> str | None:
    from kptrdoc.loader import lib

    libbpf = lib().lib
    get_fd = libbpf.bpf_prog_get_fd_by_id if kind == "progs" else libbpf.bpf_map_get_fd_by_id
    get_fd.restype, get_fd.argtypes = ctypes.c_int, [ctypes.c_uint32]
    info_fn = libbpf.bpf_obj_get_info_by_fd
    info_fn.restype = ctypes.c_int
    info_fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]
    fd = get_fd(object_id)
    if fd < 0:
        return None  # gone meanwhile
    try:
        info = ctypes.create_string_buffer(_INFO_SIZE)
        size = ctypes.c_uint32(_INFO_SIZE)
        if info_fn(fd, info, ctypes.byref(size)) != 0:
            return None
        start = _NAME_AT[kind]
        return info.raw[start : start + 16].split(b"\0", 1)[0].decode()
    finally:
        os.close(fd)


def object_names(obj: Path) -> set[str]:
    """The names the kernel gives the programs and maps of ``obj`` (15 bytes at most)."""
    from kptrdoc.objects import load_object

    model = load_object(obj)
    names = {p.name[:15] for p in model.programs} | {m.name[:15] for m in model.maps}
    return names | {s.map_name for s in model.data_sections if s.map_name}


def leftovers(before: dict[str, list[int]], names: set[str]) -> dict[str, list[str]]:
    """Programs and maps created since ``before``, still in the kernel, named one of
    ``names`` (:func:`object_names`). Under pytest-xdist another worker's objects
    come and go meanwhile: only ours count."""
    new = new_kernel_objects(before)
    out: dict[str, list[str]] = {}
    for kind in ("progs", "maps"):
        mine = [n for n in (_name(kind, i) for i in new.get(kind, [])) if n in names]
        if mine:
            out[kind] = mine
    return out
