// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_PARM7_REG and __PT_PARM8_REG: x86-64, s390, arm and sparc name no
 * register for them.
 */
// kptrdoc: build error="no member named '__unsupported__'"
// kptrdoc: build arch=x86 error="no member named '__unsupported__'"
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390 error="no member named '__unsupported__'"
// kptrdoc: build arch=riscv
// kptrdoc: build arch=powerpc
// kptrdoc: build arch=loongarch
// kptrdoc: build arch=arm error="no member named '__unsupported__'"
// kptrdoc: build arch=mips
// kptrdoc: build arch=sparc error="no member named '__unsupported__'"
// kptrdoc: build arch=arc
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long parm7 = 0;
long parm8 = 0;

SEC("uprobe")
__success __run("uprobe")
int read_parm7(struct pt_regs *ctx)
{
	parm7 = __PT_REGS_CAST(ctx)->__PT_PARM7_REG;
	return 0;
}

SEC("uprobe")
__success __run("uprobe")
int read_parm8(struct pt_regs *ctx)
{
	parm8 = __PT_REGS_CAST(ctx)->__PT_PARM8_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
