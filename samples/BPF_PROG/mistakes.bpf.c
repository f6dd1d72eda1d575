// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with BPF_PROG, each one a program the verifier rejects.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

u64 extra_seen = 0;

SEC("tp_btf/task_newtask")
__failure __msg("invalid bpf_context access off=16 size=8")
__description("task_newtask has two arguments: a third one would be read past the end of the context")
int BPF_PROG(one_argument_too_many, struct task_struct *task, u64 clone_flags, u64 extra)
{
	extra_seen = extra;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
