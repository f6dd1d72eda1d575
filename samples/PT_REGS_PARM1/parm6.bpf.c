// SPDX-License-Identifier: GPL-2.0
/*
 * The sixth argument, read directly and with a CO-RE probe read. arm
 * passes four arguments in registers and s390 five: their builds fail.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

long parm6 = 0, parm6_core = 0;	/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("parm6", "arg5")
__run_check("parm6_core", "arg5")
int argument_6(struct pt_regs *ctx)
{
	parm6 = PT_REGS_PARM6(ctx);
	parm6_core = PT_REGS_PARM6_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
