// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_FP_REG: powerpc and sparc name no register for it.
 */
// kptrdoc: build
// kptrdoc: build arch=x86
// kptrdoc: build arch=arm64
// kptrdoc: build arch=s390
// kptrdoc: build arch=riscv
// kptrdoc: build arch=powerpc error="no member named '__unsupported__'"
// kptrdoc: build arch=loongarch
// kptrdoc: build arch=arm
// kptrdoc: build arch=mips
// kptrdoc: build arch=sparc error="no member named '__unsupported__'"
// kptrdoc: build arch=arc
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long fp = 0;

SEC("uprobe")
__success __run("uprobe")
int read_fp(struct pt_regs *ctx)
{
	fp = __PT_REGS_CAST(ctx)->__PT_FP_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
