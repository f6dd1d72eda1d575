// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG2 takes each argument's type and name as two macro arguments,
 * so that it can size each one. For arguments of 8 bytes or less it reads
 * what BPF_PROG reads, one context slot each: the same tracepoint as on
 * BPF_PROG's page, the same loads at ctx + 0 and ctx + 8.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t new_pid = 0;		/* read back by user space */
u64 new_flags = 0;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("new_pid", "child_pid")
__description("the new task and its clone flags, with the types and names apart")
int BPF_PROG2(record_new_task, struct task_struct *, task, u64, clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	new_pid = task->pid;
	new_flags = clone_flags;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
