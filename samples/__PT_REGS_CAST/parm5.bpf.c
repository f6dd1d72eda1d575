// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_PARM5_REG: 32-bit arm names no register for it. The run checks
 * the fifth argument of kptrdoc_uprobe_target(..., 5005, 6006).
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390
// kptrdoc: build arch=riscv
// kptrdoc: build arch=powerpc
// kptrdoc: build arch=loongarch
// kptrdoc: build arch=arm error="no member named '__unsupported__'"
// kptrdoc: build arch=mips
// kptrdoc: build arch=sparc
// kptrdoc: build arch=arc
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long parm5 = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("parm5", "arg4")
int read_parm5(struct pt_regs *ctx)
{
	parm5 = __PT_REGS_CAST(ctx)->__PT_PARM5_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
