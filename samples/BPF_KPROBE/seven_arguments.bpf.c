// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 passes six arguments in registers, so bpf_tracing.h has no
 * register for a seventh there: PT_REGS_PARM7 names a pt_regs member that
 * does not exist, and clang says so.
 */
// kptrdoc: build error="no member named '__unsupported__' in 'struct pt_regs'"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/find_task_by_vpid")
int BPF_KPROBE(seven_arguments, long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
