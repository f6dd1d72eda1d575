// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with kfuncs declared __ksym that the verifier catches: it
 * knows from the kernel's BTF which kfuncs acquire and release references
 * and which arguments must not be NULL.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/task_newtask")
__failure __msg("Unreleased reference") __msg("would lead to reference leak")
__msg_on("<=6.12", "Unreleased reference id=2 alloc_insn=2")
__description("a task acquired with bpf_task_from_pid() must be released before the program exits")
int BPF_PROG(task_reference_leak, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *leader;

	leader = bpf_task_from_pid(task->tgid);
	return leader != NULL;	/* the reference is never released */
}

SEC("tp_btf/task_newtask")
__failure __msg("Possibly NULL pointer passed to trusted arg0")
__msg_on(">=7", "Possibly NULL pointer passed to trusted R1")
__description("bpf_task_from_pid() may return NULL: check before passing the task to another kfunc")
int BPF_PROG(release_unchecked, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *leader;

	leader = bpf_task_from_pid(task->tgid);
	bpf_task_release(leader);	/* no NULL check */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
