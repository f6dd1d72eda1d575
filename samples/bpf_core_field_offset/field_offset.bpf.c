// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_field_offset and bpf_core_field_size: where a field is, and how
 * big it is, in the running kernel's struct. The compiler writes the values
 * it sees in vmlinux.h; libbpf rewrites them from the kernel's BTF when it
 * loads the object. Here the new task's pid is read at the offset the
 * running kernel has, with a probe read of the size the running kernel has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t pid_at_offset = 0;	/* read back by user space */
__u32 pid_offset = 0;
__u32 comm_size = 0;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("pid_at_offset", "child_pid") __run_check("comm_size", "16")
__description("the child's pid, read at the offset and with the size this kernel's task_struct has")
int BPF_PROG(read_at_offset, struct task_struct *task, u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	pid_offset = bpf_core_field_offset(task->pid);
	comm_size = bpf_core_field_size(struct task_struct, comm);
	bpf_probe_read_kernel(&pid_at_offset, bpf_core_field_size(task->pid),
			      (void *)task + pid_offset);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
