// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __weak. A __weak extern may resolve to nothing, and a
 * __weak function is a global function: the verifier checks it once, on its
 * own, not in the context of each caller as it does with static functions.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* in no kernel: stands for a kfunc of a newer release */
extern u64 kptrdoc_task_weight(struct task_struct *task) __ksym __weak;

u64 total_weight;
u64 forks;

SEC("tp_btf/task_newtask")
__failure __msg("kfunc 'kptrdoc_task_weight' is referenced but wasn't resolved")
__description("a __weak kfunc may be missing: call it only behind bpf_ksym_exists()")
int BPF_PROG(weak_kfunc_unchecked, struct task_struct *task, u64 clone_flags)
{
	total_weight += kptrdoc_task_weight(task);
	return 0;
}

/* verified alone: @counter may be NULL for all the verifier knows */
__weak int count_into(u64 *counter)
{
	*counter += 1;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating count_into() func#1") __msg("R1 invalid mem access 'mem_or_null'")
__description("a __weak function is verified on its own: a pointer argument may be NULL and must be checked")
int BPF_PROG(weak_function_pointer_arg, struct task_struct *task, u64 clone_flags)
{
	return count_into(&forks);
}

/* global functions must return a scalar */
__weak void note_fork(void)
{
	forks++;
}

SEC("tp_btf/task_newtask")
__failure_on("<7") __msg("Global function note_fork() doesn't return scalar")
__description("a __weak function is a global function, and global functions must return a scalar, not void")
int BPF_PROG(weak_function_void, struct task_struct *task, u64 clone_flags)
{
	note_fork();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
