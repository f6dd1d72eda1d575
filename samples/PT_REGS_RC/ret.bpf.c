// SPDX-License-Identifier: GPL-2.0
/*
 * PT_REGS_RET: where a function's return address is at its entry: the
 * stack pointer on x86-64, a register elsewhere (the table shows which).
 * For powerpc, bpf_tracing.h names regs[31], a member powerpc's struct
 * pt_regs does not have: that build fails.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forms_agree = -1;		/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("forms_agree", "1")
__description("the return address slot, read both ways")
int return_address(struct pt_regs *ctx)
{
	unsigned long ret = PT_REGS_RET(ctx);
	unsigned long ret_core = PT_REGS_RET_CORE(ctx);

	forms_agree = ret != 0 && ret == ret_core;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
