// SPDX-License-Identifier: GPL-2.0
/*
 * PT_REGS_PARM1 in a raw tracepoint. A raw tracepoint's context is not a
 * struct pt_regs but the tracepoint's arguments, one u64 each (sys_enter
 * has two: the registers and the syscall number). The program compiles
 * with any pointer type for ctx; the verifier then refuses the read of
 * di, 112 bytes into that array.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long first = 0;

SEC("raw_tp/sys_enter")
__failure __msg("invalid bpf_context access off=112 size=8")
__description("a kprobe's register macro on a raw tracepoint's context")
int parm1_in_raw_tp(struct pt_regs *ctx)
{
	first = PT_REGS_PARM1(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
