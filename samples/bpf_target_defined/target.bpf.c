// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_tracing.h turns -D__TARGET_ARCH_<arch> into bpf_target_<arch> and
 * bpf_target_defined; a program can test them where it must know the
 * architecture it reads registers of. This one records which one its
 * build saw. Built for this machine, for each architecture, and without
 * __TARGET_ARCH at all: clang's BPF target defines no __x86_64__ or
 * __aarch64__ for the header to fall back on, so that build defines no
 * target (and any PT_REGS_* use fails, see the other sample).
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
// kptrdoc: build arch=none
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int target_is_x86 = -1;		/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("target_is_x86", "1")
__description("which target the build saw: x86 here")
int which_target(void *ctx)
{
#if defined(bpf_target_x86)
	target_is_x86 = 1;
#elif defined(bpf_target_defined)
	target_is_x86 = 0;
#else
	target_is_x86 = 2;
#endif
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
