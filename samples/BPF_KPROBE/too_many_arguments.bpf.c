// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_KPROBE unpacks at most as many arguments as the architecture passes
 * in registers and bpf_tracing.h names (PT_REGS_PARM1..8; on x86-64 the
 * calling convention has six, and PT_REGS_PARM7 and 8 do not exist there).
 * A ninth argument has no helper macro at all: clang says so.
 */
// kptrdoc: build error="___bpf_kprobe_args9"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/find_task_by_vpid")
int BPF_KPROBE(nine_arguments, long a1, long a2, long a3, long a4, long a5, long a6, long a7,
	       long a8, long a9)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
