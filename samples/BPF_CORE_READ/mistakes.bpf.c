// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around BPF_CORE_READ, each one rejected by the tool that
 * catches it: the verifier, or libbpf when it relocates the object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

pid_t parent_tgid = 0;

SEC("raw_tp/task_newtask")
__failure __msg("invalid mem access 'scalar'")
__description("in a raw tracepoint the task pointer is a number: a plain dereference is refused, BPF_CORE_READ reads it")
int BPF_PROG(plain_dereference, struct task_struct *task, u64 clone_flags)
{
	parent_tgid = task->real_parent->tgid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
