// SPDX-License-Identifier: GPL-2.0
/*
 * The common mistake around __hidden is leaving it out: a global function
 * without it keeps default visibility, and the verifier checks it alone,
 * knowing nothing about its callers. (__noinline keeps clang from inlining
 * the calls in this small file; across files of a linked object a call to
 * a global function is never inlined.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

u64 tasks_created;

/* should be __hidden: @counter may be NULL as far as the verifier knows */
__noinline int bump(u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating bump() func#1") __msg("R1 invalid mem access 'mem_or_null'")
__description("without __hidden a global function is verified on its own: its pointer argument may be NULL")
int BPF_PROG(global_pointer_arg, struct task_struct *task, u64 clone_flags)
{
	return bump(&tasks_created);
}

/* should be __hidden: global functions must return a scalar */
__noinline void note_task(void)
{
	tasks_created++;
}

SEC("tp_btf/task_newtask")
__failure_on("<7") __msg("Global function note_task() doesn't return scalar")
__description("without __hidden a void library function is a global function, which must return a scalar")
int BPF_PROG(global_void_function, struct task_struct *task, u64 clone_flags)
{
	note_task();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
