// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_ksym_exists: one object for kernels with and without a kfunc. The
 * kfunc is declared __weak, so libbpf loads the object even where the kernel
 * lacks it and sets its address to 0; the program tests it and falls back.
 *
 * kptrdoc_task_weight() stands for a kfunc added in a kernel release newer
 * than the one running: no kernel has it, so this host takes the fallback.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern u64 kptrdoc_task_weight(struct task_struct *task) __ksym __weak;

u64 total_weight;
u64 weighed_by_kfunc, weighed_by_fallback;

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("call an optional kfunc only where the kernel has it, with a fallback where it doesn't")
int BPF_PROG(weigh_new_task, struct task_struct *task, u64 clone_flags)
{
	u64 weight;

	if (bpf_ksym_exists(kptrdoc_task_weight)) {
		weight = kptrdoc_task_weight(task);
		__sync_fetch_and_add(&weighed_by_kfunc, 1);
	} else {
		/* older kernels: derive a weight from the static priority */
		weight = 140 - task->static_prio;
		__sync_fetch_and_add(&weighed_by_fallback, 1);
	}
	__sync_fetch_and_add(&total_weight, weight);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
