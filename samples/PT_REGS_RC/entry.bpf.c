// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction pointer and the stack pointer at a function's entry,
 * each read directly and with a CO-RE probe read. Their values differ
 * from run to run; the program checks that both forms agree and that the
 * instruction pointer is set, and user space reads that back.
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

int forms_agree = -1;		/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("forms_agree", "1")
__description("ip and sp, each read both ways")
int entry_registers(struct pt_regs *ctx)
{
	unsigned long ip = PT_REGS_IP(ctx);
	unsigned long sp = PT_REGS_SP(ctx);
	unsigned long ip_core = PT_REGS_IP_CORE(ctx);
	unsigned long sp_core = PT_REGS_SP_CORE(ctx);

	forms_agree = ip != 0 && ip == ip_core && sp == sp_core;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
