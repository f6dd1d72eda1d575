// SPDX-License-Identifier: GPL-2.0
/*
 * __PT_PARM7_SYSCALL_REG: only arm and powerpc (as built for BPF, where
 * __arch64__ is not defined) name a register for it.
 */
// kptrdoc: build error="no member named '__unsupported__'"
// kptrdoc: build arch=x86 error="no member named '__unsupported__'"
// kptrdoc: build arch=arm64 error="no member named '__unsupported__'"
// kptrdoc: build arch=s390 error="no member named '__unsupported__'"
// kptrdoc: build arch=riscv error="no member named '__unsupported__'"
// kptrdoc: build arch=powerpc
// kptrdoc: build arch=loongarch error="no member named '__unsupported__'"
// kptrdoc: build arch=arm
// kptrdoc: build arch=mips error="no member named '__unsupported__'"
// kptrdoc: build arch=sparc error="no member named '__unsupported__'"
// kptrdoc: build arch=arc error="no member named '__unsupported__'"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long parm7_syscall = 0;

SEC("uprobe")
__success __run("uprobe")
int read_parm7_syscall(struct pt_regs *ctx)
{
	parm7_syscall = __PT_REGS_CAST(ctx)->__PT_PARM7_SYSCALL_REG;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
