// SPDX-License-Identifier: GPL-2.0
/*
 * A system call's six arguments from the registers user space made it
 * with. The raw_syscalls:sys_enter tracepoint, attached with BTF
 * (tp_btf), gets that struct pt_regs * as a typed pointer the program may
 * read directly (PT_REGS_PARMn_SYSCALL) or with a CO-RE probe read
 * (PT_REGS_PARMn_CORE_SYSCALL). The close() trigger closes one fd; user
 * space checks that both forms saw it.
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
long close_nr = -1;		/* written by user space: close's number here */
long fd_direct = -1, fd_core = -1;	/* read back by user space */
long args[5], args_core[5];

SEC("tp_btf/sys_enter")
__success __run("close") __run_set("calling_tid", "pid") __run_set("close_nr", "nr")
__run_check("fd_direct", "fd") __run_check("fd_core", "fd")
__description("close()'s fd, read from the registers of the system call")
int BPF_PROG(close_enter, struct pt_regs *regs, long id)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid || id != close_nr)
		return 0;
	fd_direct = PT_REGS_PARM1_SYSCALL(regs);
	fd_core = PT_REGS_PARM1_CORE_SYSCALL(regs);
	args[0] = PT_REGS_PARM2_SYSCALL(regs);
	args[1] = PT_REGS_PARM3_SYSCALL(regs);
	args[2] = PT_REGS_PARM4_SYSCALL(regs);
	args[3] = PT_REGS_PARM5_SYSCALL(regs);
	args[4] = PT_REGS_PARM6_SYSCALL(regs);
	args_core[0] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	args_core[1] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	args_core[2] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	args_core[3] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	args_core[4] = PT_REGS_PARM6_CORE_SYSCALL(regs);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
