// SPDX-License-Identifier: GPL-2.0
/*
 * Why the bitfield macros exist: BPF_CORE_READ takes each field's address,
 * and C gives a bitfield none.
 */
// kptrdoc: build error="address of bit-field requested"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

int reset_on_fork = -1;

SEC("raw_tp/task_newtask")
int BPF_PROG(core_read_of_bitfield, struct task_struct *task, u64 clone_flags)
{
	reset_on_fork = BPF_CORE_READ(task, sched_reset_on_fork);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
