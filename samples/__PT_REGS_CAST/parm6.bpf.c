// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_PARM6_REG: arm and s390 name no register for it. The run checks
 * the sixth argument of kptrdoc_uprobe_target(..., 5005, 6006).
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390 error="no member named '__unsupported__'"
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

long parm6 = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("parm6", "arg5")
int read_parm6(struct pt_regs *ctx)
{
	parm6 = __PT_REGS_CAST(ctx)->__PT_PARM6_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
