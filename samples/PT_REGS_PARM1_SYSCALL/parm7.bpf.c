// SPDX-License-Identifier: GPL-2.0
/*
 * A seventh system call argument: only 32-bit arm (and powerpc built for
 * BPF, where bpf_tracing.h's test for 64-bit powerpc, __arch64__, is not
 * defined) name a register for it. Everywhere else the build fails.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

long arg7 = 0, arg7_core = 0;

SEC("kprobe")
__success
int seventh(struct pt_regs *ctx)
{
	arg7 = PT_REGS_PARM7_SYSCALL(ctx);
	arg7_core = PT_REGS_PARM7_CORE_SYSCALL(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
