// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_PARM1_SYSCALL_REG: on arm64, s390 and riscv it is orig_x0,
 * orig_gpr2 and orig_a0, members of the kernel's struct pt_regs but not of
 * the type __PT_REGS_CAST gives there (PT_REGS_PARM1_SYSCALL reads it
 * through pt_regs___<arch> instead): those builds fail.
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64 error="no member named 'orig_"
// kptrdoc: build arch=s390 error="no member named 'orig_"
// kptrdoc: build arch=riscv error="no member named 'orig_"
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

long parm1_syscall = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("parm1_syscall", "arg0")
int read_parm1_syscall(struct pt_regs *ctx)
{
	parm1_syscall = __PT_REGS_CAST(ctx)->__PT_PARM1_SYSCALL_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
