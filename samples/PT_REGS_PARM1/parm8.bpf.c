// SPDX-License-Identifier: GPL-2.0
/*
 * Argument 8, read directly and with a CO-RE probe read. bpf_tracing.h
 * names no register for it on x86-64, sparc, s390 and arm: those builds
 * fail.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

long parm8 = 0, parm8_core = 0;	/* read back by user space */

SEC("uprobe")
__success
int argument_8(struct pt_regs *ctx)
{
	parm8 = PT_REGS_PARM8(ctx);
	parm8_core = PT_REGS_PARM8_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
