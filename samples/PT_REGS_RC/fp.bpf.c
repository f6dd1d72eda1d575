// SPDX-License-Identifier: GPL-2.0
/*
 * The frame pointer, read directly and with a CO-RE probe read. It means
 * something only in code built with frame pointers (bpf_tracing.h notes
 * "Works only with CONFIG_FRAME_POINTER" on several architectures), and
 * on powerpc and sparc bpf_tracing.h names no register for it: those
 * builds fail. The uprobe's target is built with gcc -O0.
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
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forms_agree = -1;		/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("forms_agree", "1")
__description("the frame pointer, read both ways")
int frame_pointer(struct pt_regs *ctx)
{
	unsigned long fp = PT_REGS_FP(ctx);
	unsigned long fp_core = PT_REGS_FP_CORE(ctx);

	forms_agree = fp == fp_core;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
