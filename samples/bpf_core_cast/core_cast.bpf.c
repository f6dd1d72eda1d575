// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_cast: tell the verifier that a pointer points to a kernel type.
 * In a raw tracepoint the task is a plain number; once cast, its fields
 * are read with ordinary loads, pointers followed and all, instead of one
 * BPF_CORE_READ probe read per step. The cast is the kfunc
 * bpf_rdonly_cast() with the type's id in the running kernel's BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t parent_tgid = 0;		/* read back by user space */

SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("parent_tgid", "tgid")
__description("the new task's parent's tgid, read with plain loads through a pointer cast to struct task_struct")
int BPF_PROG(cast_and_load, struct task_struct *raw, u64 clone_flags)
{
	struct task_struct *task;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	task = bpf_core_cast(raw, struct task_struct);
	parent_tgid = task->real_parent->tgid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
