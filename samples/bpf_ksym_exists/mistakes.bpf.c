// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around bpf_ksym_exists(): libbpf accepts a missing __weak
 * kfunc, but the verifier rejects every call to it that it can reach.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* a kfunc no kernel has (see ksym_exists.bpf.c) */
extern u64 kptrdoc_task_weight(struct task_struct *task) __ksym __weak;

u64 total_weight;

SEC("tp_btf/task_newtask")
__failure __msg("kfunc 'kptrdoc_task_weight' is referenced but wasn't resolved")
__description("a __weak kfunc the kernel lacks must not be called without a bpf_ksym_exists() check")
int BPF_PROG(call_without_check, struct task_struct *task, u64 clone_flags)
{
	total_weight += kptrdoc_task_weight(task);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("<invalid kfunc call>") __msg("kfunc 'kptrdoc_task_weight' is referenced but wasn't resolved")
__description("an inverted check leaves the call on the path the verifier walks when the kfunc is missing")
int BPF_PROG(check_inverted, struct task_struct *task, u64 clone_flags)
{
	if (!bpf_ksym_exists(kptrdoc_task_weight))
		total_weight += kptrdoc_task_weight(task);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
