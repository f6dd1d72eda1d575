// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_CORE_READ names fields, and clang checks them against the types of
 * vmlinux.h: a misspelt field never reaches a kernel.
 */
// kptrdoc: build error="no member named 'tgidd' in 'struct task_struct'"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

pid_t parent_tgid = 0;

SEC("raw_tp/task_newtask")
int BPF_PROG(misspelt_field, struct task_struct *task, u64 clone_flags)
{
	parent_tgid = BPF_CORE_READ(task, real_parent, tgidd);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
