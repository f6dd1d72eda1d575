// SPDX-License-Identifier: GPL-2.0
/*
 * The registers every architecture of bpf_tracing.h names, each read in a
 * program of its own the way the public PT_REGS_* macros read it: the
 * context cast with __PT_REGS_CAST, then the member __PT_<X>_REG names.
 * All run on a uprobe of kptrdoc_uprobe_target(1001, 2002, 3003, 4004,
 * 5005, 6006), __PT_RC_REG at its return (21021); user space checks each
 * value known beforehand: the arguments (on x86-64 a system call's
 * registers are a function's but for the fourth) and the return value.
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
#include "kptrdoc.h"

long parm1 = 0;
long parm2 = 0;
long parm3 = 0;
long parm4 = 0;
long parm2_syscall = 0;
long parm3_syscall = 0;
long parm4_syscall = 0;
long parm5_syscall = 0;
long parm6_syscall = 0;
long rc = 0;
long sp = 0;
long ip = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("parm1", "arg0")
int read_parm1(struct pt_regs *ctx)
{
	parm1 = __PT_REGS_CAST(ctx)->__PT_PARM1_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm2", "arg1")
int read_parm2(struct pt_regs *ctx)
{
	parm2 = __PT_REGS_CAST(ctx)->__PT_PARM2_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm3", "arg2")
int read_parm3(struct pt_regs *ctx)
{
	parm3 = __PT_REGS_CAST(ctx)->__PT_PARM3_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm4", "arg3")
int read_parm4(struct pt_regs *ctx)
{
	parm4 = __PT_REGS_CAST(ctx)->__PT_PARM4_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm2_syscall", "arg1")
int read_parm2_syscall(struct pt_regs *ctx)
{
	parm2_syscall = __PT_REGS_CAST(ctx)->__PT_PARM2_SYSCALL_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm3_syscall", "arg2")
int read_parm3_syscall(struct pt_regs *ctx)
{
	parm3_syscall = __PT_REGS_CAST(ctx)->__PT_PARM3_SYSCALL_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe")
int read_parm4_syscall(struct pt_regs *ctx)
{
	parm4_syscall = __PT_REGS_CAST(ctx)->__PT_PARM4_SYSCALL_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm5_syscall", "arg4")
int read_parm5_syscall(struct pt_regs *ctx)
{
	parm5_syscall = __PT_REGS_CAST(ctx)->__PT_PARM5_SYSCALL_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm6_syscall", "arg5")
int read_parm6_syscall(struct pt_regs *ctx)
{
	parm6_syscall = __PT_REGS_CAST(ctx)->__PT_PARM6_SYSCALL_REG;
	return 0;
}

SEC("uretprobe")
__success __run("uprobe") __run_check("rc", "retval")
int read_rc(struct pt_regs *ctx)
{
	rc = __PT_REGS_CAST(ctx)->__PT_RC_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe")
int read_sp(struct pt_regs *ctx)
{
	sp = __PT_REGS_CAST(ctx)->__PT_SP_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe")
int read_ip(struct pt_regs *ctx)
{
	ip = __PT_REGS_CAST(ctx)->__PT_IP_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
