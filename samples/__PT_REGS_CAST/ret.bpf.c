// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_RET_REG: powerpc's is regs[31], which its struct pt_regs does not
 * have.
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390
// kptrdoc: build arch=riscv
// kptrdoc: build arch=powerpc error="no member named 'regs' in 'struct pt_regs'"
// kptrdoc: build arch=loongarch
// kptrdoc: build arch=arm
// kptrdoc: build arch=mips
// kptrdoc: build arch=sparc
// kptrdoc: build arch=arc
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long ret = 0;

SEC("uprobe")
__success __run("uprobe")
int read_ret(struct pt_regs *ctx)
{
	ret = __PT_REGS_CAST(ctx)->__PT_RET_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
