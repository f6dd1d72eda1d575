// SPDX-License-Identifier: GPL-2.0
/*
 * The fifth argument, read directly and with a CO-RE probe read. 32-bit
 * arm passes four in registers: there bpf_tracing.h has no register for
 * it, and the build fails.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

long parm5 = 0, parm5_core = 0;	/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("parm5", "arg4")
__run_check("parm5_core", "arg4")
int argument_5(struct pt_regs *ctx)
{
	parm5 = PT_REGS_PARM5(ctx);
	parm5_core = PT_REGS_PARM5_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
