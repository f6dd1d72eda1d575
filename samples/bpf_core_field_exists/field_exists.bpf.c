// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_field_exists: ask, at load time, whether the running kernel's
 * struct has a field. task_struct lost robust_list in 7.2 (its futex state
 * moved out); a "flavor" struct (the ___rl suffix is ignored by libbpf)
 * names the field that vmlinux.h, made from a 7.3 kernel, no longer has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct task_struct___rl {
	void *robust_list;
} __attribute__((preserve_access_index));

int has_robust_list = -1;	/* read back from user space */
int has_pid = -1;
void *robust_list = 0;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("has_pid", "1")
__description("1 or 0 for each field, decided by libbpf against this kernel's BTF; the read is guarded by it")
int BPF_PROG(probe_fields, struct task_struct *task, u64 clone_flags)
{
	struct task_struct___rl *old = (void *)task;

	has_pid = bpf_core_field_exists(task->pid);
	has_robust_list = bpf_core_field_exists(old->robust_list);
	if (bpf_core_field_exists(old->robust_list))
		robust_list = BPF_CORE_READ(old, robust_list);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
