// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_type_id_kernel and bpf_core_type_id_local: the id of a type in
 * the running kernel's BTF, and in the program's own. Helpers and kfuncs
 * that take a type id want the kernel's: here bpf_snprintf_btf() prints the
 * new task as the kernel sees it, which needs the id of struct task_struct
 * in the kernel's BTF. The local id is what the compiler numbered it in the
 * object; libbpf keeps it as it is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;		/* written by user space: only its forks count */
__u32 local_id = 0;		/* read back by user space */
__u32 kernel_id = 0;
int has_kernel_id = -1;
long printed = -1;
int printed_ok = -1;
char text[128] = {};

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("has_kernel_id", "1") __run_check("printed_ok", "1")
__description("the kernel's id of struct task_struct, handed to bpf_snprintf_btf() to print the new task")
int BPF_PROG(print_task, struct task_struct *task, u64 clone_flags)
{
	struct btf_ptr ptr = {};

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	local_id = bpf_core_type_id_local(struct task_struct);
	kernel_id = bpf_core_type_id_kernel(struct task_struct);
	has_kernel_id = kernel_id != 0;
	ptr.ptr = task;
	ptr.type_id = bpf_core_type_id_kernel(struct task_struct);
	printed = bpf_snprintf_btf(text, sizeof(text), &ptr, sizeof(ptr), 0);
	printed_ok = printed > 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
