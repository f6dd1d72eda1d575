// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_CORE_READ: follow pointers through kernel memory from a raw
 * tracepoint, where every pointer is a plain number to the verifier. Each
 * step is a bpf_probe_read_kernel() of one field whose offset libbpf
 * relocates for the running kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t parent_tgid = 0;		/* read back by user space */
pid_t new_pid = 0;

SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("parent_tgid", "tgid") __run_check("new_pid", "child_pid")
__description("the new task's parent's tgid, two pointers away, each field read at the offset this kernel has")
int BPF_PROG(record_parent, struct task_struct *task, u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	BPF_CORE_READ_INTO(&new_pid, task, pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
