// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_KSYSCALL: a kprobe on a system call's entry with the syscall's own
 * arguments. On x86-64 (and the other architectures whose syscalls go
 * through a wrapper taking one struct pt_regs *), the kprobe sees the
 * wrapper's registers, whose first argument is a pointer to the user's
 * registers; BPF_KSYSCALL reads the syscall's arguments from there, with
 * PT_REGS_PARMn_CORE_SYSCALL. SEC("ksyscall/close") lets libbpf find the
 * right kernel function for the running kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space: only its close() counts */
int fd_seen = -1;		/* read back by user space */

SEC("ksyscall/close")
__success __run("close") __run_set("calling_tid", "pid") __run_check("fd_seen", "fd")
__description("the fd passed to close(), read from the user's registers the wrapper received")
int BPF_KSYSCALL(close_entry, int fd)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	fd_seen = fd;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
