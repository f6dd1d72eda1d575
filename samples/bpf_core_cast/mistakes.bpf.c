// SPDX-License-Identifier: GPL-2.0
/*
 * Mistakes with bpf_core_cast. The cast gives a read-only view: a store
 * through it is refused. And the kfunc behind it, bpf_rdonly_cast(), came
 * in Linux 6.2: bpf_core_read.h declares it __weak, so an object that uses
 * the cast still opens on an older kernel, but libbpf poisons the call and
 * the verifier refuses the program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

pid_t parent_tgid = 0;

SEC("raw_tp/task_newtask")
__failure_on("<6.2") __msg("kfunc 'bpf_rdonly_cast' is referenced but wasn't resolved")
__description("the cast on a kernel without bpf_rdonly_cast(): libbpf poisons the call")
int BPF_PROG(cast_without_kfunc, struct task_struct *raw, u64 clone_flags)
{
	struct task_struct *task = bpf_core_cast(raw, struct task_struct);

	parent_tgid = task->real_parent->tgid;
	return 0;
}

SEC("raw_tp/task_newtask")
__failure __msg("only read is supported")
__description("a store through the cast pointer: it is a read-only view of kernel memory")
int BPF_PROG(store_through_cast, struct task_struct *raw, u64 clone_flags)
{
	struct task_struct *task = bpf_core_cast(raw, struct task_struct);

	task->pid = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
