// SPDX-License-Identifier: GPL-2.0
/*
 * A kprobe on a system call's entry function. On x86-64 (and arm64, s390,
 * riscv) the kernel calls it with one argument, a pointer to the user's
 * registers: PT_REGS_SYSCALL_REGS reads that pointer from the kprobe's
 * own registers, and PT_REGS_PARM1_CORE_SYSCALL reads the syscall's first
 * argument through it with a probe read. SEC("ksyscall/close") lets libbpf
 * pick the entry function's name for the running kernel. This is what
 * BPF_KSYSCALL expands to, written out.
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390
// kptrdoc: build arch=riscv
// kptrdoc: build arch=powerpc
// kptrdoc: build arch=loongarch
// kptrdoc: build arch=arm
// kptrdoc: build arch=mips
// kptrdoc: build arch=sparc
// kptrdoc: build arch=arc
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space: only its close() counts */
long fd_seen = -1;		/* read back by user space */

SEC("ksyscall/close")
__success __run("close") __run_set("calling_tid", "pid") __run_check("fd_seen", "fd")
__description("close()'s fd, through the pointer the wrapper received")
int close_wrapper(struct pt_regs *ctx)
{
	struct pt_regs *regs = PT_REGS_SYSCALL_REGS(ctx);

	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	fd_seen = PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
