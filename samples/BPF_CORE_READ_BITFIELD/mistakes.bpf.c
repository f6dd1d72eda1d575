// SPDX-License-Identifier: GPL-2.0
/*
 * Mistakes with the bitfield macros: the direct forms load and store
 * memory themselves, so the verifier must allow that. In a raw tracepoint
 * the task is a plain number (use the _PROBED form); a task from a typed
 * tracepoint may be read, never written.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int reset_on_fork = -1;

SEC("raw_tp/task_newtask")
__failure __msg("invalid mem access 'scalar'")
__description("BPF_CORE_READ_BITFIELD on a raw tracepoint's task: a direct load through a number")
int BPF_PROG(direct_read_in_raw_tp, struct task_struct *task, u64 clone_flags)
{
	reset_on_fork = BPF_CORE_READ_BITFIELD(task, sched_reset_on_fork);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("only read is supported")
__description("BPF_CORE_WRITE_BITFIELD on the kernel's task: kernel objects are read-only to tracing programs")
int BPF_PROG(write_kernel_bitfield, struct task_struct *task, u64 clone_flags)
{
	BPF_CORE_WRITE_BITFIELD(task, sched_reset_on_fork, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
