// SPDX-License-Identifier: GPL-2.0
/*
 * The first four arguments of a user-space function at its entry, each
 * read twice: directly from the context (PT_REGS_PARMn) and with a CO-RE
 * probe read (PT_REGS_PARMn_CORE). Built for this machine and for every
 * architecture bpf_tracing.h knows: the register and its offset differ,
 * the source does not. This machine's build is loaded and runs on a
 * uprobe of kptrdoc_uprobe_target(1001, 2002, 3003, 4004, 5005, 6006).
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

long parm1 = 0, parm2 = 0, parm3 = 0, parm4 = 0;	/* read back by user space */
long parm1_core = 0, parm2_core = 0, parm3_core = 0, parm4_core = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("parm1", "arg0") __run_check("parm2", "arg1")
__run_check("parm3", "arg2") __run_check("parm4", "arg3")
__description("the first four arguments, each from its register")
int first_four(struct pt_regs *ctx)
{
	parm1 = PT_REGS_PARM1(ctx);
	parm2 = PT_REGS_PARM2(ctx);
	parm3 = PT_REGS_PARM3(ctx);
	parm4 = PT_REGS_PARM4(ctx);
	return 0;
}

SEC("uprobe")
__success __run("uprobe") __run_check("parm1_core", "arg0") __run_check("parm2_core", "arg1")
__run_check("parm3_core", "arg2") __run_check("parm4_core", "arg3")
__description("the same four, each with bpf_probe_read_kernel of a relocated offset")
int first_four_core(struct pt_regs *ctx)
{
	parm1_core = PT_REGS_PARM1_CORE(ctx);
	parm2_core = PT_REGS_PARM2_CORE(ctx);
	parm3_core = PT_REGS_PARM3_CORE(ctx);
	parm4_core = PT_REGS_PARM4_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
