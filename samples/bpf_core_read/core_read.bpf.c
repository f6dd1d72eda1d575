// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_read and bpf_core_read_str: one probe read of kernel memory at
 * an address whose field offsets libbpf relocates, of a size the program
 * gives. BPF_CORE_READ_STR_INTO follows a chain of pointers and reads a
 * string at its end. Here, from a raw tracepoint: the new task's pid, its
 * command name, and its parent's (which fork copied, so they are equal).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t new_pid = 0;		/* read back by user space */
long comm_len = -1;
long parent_comm_len = -1;
int same_comm = -1;
char comm[16] = {};
char parent_comm[16] = {};

SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("new_pid", "child_pid") __run_check("same_comm", "1")
__description("one field, one string, and a string two pointers away, each read at the offset this kernel has")
int BPF_PROG(read_fields, struct task_struct *task, u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	bpf_core_read(&new_pid, sizeof(new_pid), &task->pid);
	comm_len = bpf_core_read_str(comm, sizeof(comm), &task->comm);
	parent_comm_len = BPF_CORE_READ_STR_INTO(&parent_comm, task, real_parent, comm);
	same_comm = comm_len > 1 && comm_len == parent_comm_len &&
		    *(__u64 *)comm == *(__u64 *)parent_comm;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
