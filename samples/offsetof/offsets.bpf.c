// SPDX-License-Identifier: GPL-2.0
/*
 * offsetof and container_of with vmlinux.h's types. bpf_helpers.h defines
 * offsetof as the address of a member of a struct at address 0; on a
 * struct with preserve_access_index that address is a CO-RE field offset,
 * which libbpf sets for the running kernel: the relocations show
 * task_struct.tgid moving between the recorded kernels. container_of
 * subtracts the same kind of offset to get from a member back to its
 * struct. The first program reads the tgid at the relocated offset, the
 * second goes from &task->tasks back to task; user space checks both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int forking_tgid = 0;			/* written by user space: only its forks count */
int tgid_at_offset = -1;		/* read back by user space */
int back_to_task = -1;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("tgid_at_offset", "tgid")
__description("the current task's tgid, read at offsetof(struct task_struct, tgid)")
int BPF_PROG(read_at_offset, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *me = bpf_get_current_task_btf();
	unsigned long off = offsetof(struct task_struct, tgid);

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	bpf_probe_read_kernel(&tgid_at_offset, sizeof(int), (void *)me + off);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("back_to_task", "1")
__description("from the new task's tasks list node back to the task")
int BPF_PROG(node_to_task, struct task_struct *task, u64 clone_flags)
{
	unsigned long node = (unsigned long)&task->tasks;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	back_to_task = container_of((struct list_head *)node, struct task_struct, tasks) == task;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
