// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_KPROBE on the syscall wrapper (__x64_sys_close) instead of
 * BPF_KSYSCALL: the wrapper's first argument is a struct pt_regs * with
 * the user's registers, not the fd, so "fd" is the low half of a kernel
 * address. The verifier has nothing to object to; the value is wrong, and
 * user space sees it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space */
int expected_fd = -1;
int fd_matches = -1;		/* read back by user space */

SEC("kprobe/__x64_sys_close")
__success __run("close") __run_set("calling_tid", "pid") __run_set("expected_fd", "fd")
__run_check("fd_matches", "0")
__description("BPF_KPROBE on __x64_sys_close: its first argument is the wrapper's pt_regs pointer, not the fd")
int BPF_KPROBE(close_wrapper, int fd)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	fd_matches = fd == expected_fd;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
