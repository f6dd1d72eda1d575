// SPDX-License-Identifier: GPL-2.0
/*
 * A user-space function's return value, at its return: the register the
 * calling convention returns it in, read directly (PT_REGS_RC) and with a
 * CO-RE probe read (PT_REGS_RC_CORE). The trigger's function returns
 * 21021; user space checks both.
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

long rc = 0, rc_core = 0;	/* read back by user space */

SEC("uretprobe")
__success __run("uprobe") __run_check("rc", "retval") __run_check("rc_core", "retval")
__description("the return value, from its register")
int return_value(struct pt_regs *ctx)
{
	rc = PT_REGS_RC(ctx);
	rc_core = PT_REGS_RC_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
