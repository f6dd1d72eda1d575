// SPDX-License-Identifier: GPL-2.0
/*
 * __weak: declarations that may be missing or overridden.
 *
 * - a kfunc the running kernel may lack (kptrdoc_task_weight() is in no
 *   kernel: it stands for one from a newer release): libbpf loads the object
 *   anyway and bpf_ksym_exists() tells the program;
 * - a Kconfig option that may not exist at all: it reads as 0;
 * - a default function and a default setting that another BPF object can
 *   replace with strong definitions when both are linked with
 *   `bpftool gen object`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define CLONE_THREAD 0x00010000

extern u64 kptrdoc_task_weight(struct task_struct *task) __ksym __weak;
extern bool CONFIG_PREEMPT_RT __kconfig __weak;

/* defaults: a strong definition elsewhere wins at link time */
u32 thread_weight __weak = 1;

__weak int clone_weight(u64 clone_flags)
{
	return clone_flags & CLONE_THREAD ? thread_weight : 2;
}

u64 total_weight;
u64 realtime_kernel;

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("weigh each new task with a __weak kfunc if present, a __weak default function otherwise, and note a __weak Kconfig option")
int BPF_PROG(weigh_task, struct task_struct *task, u64 clone_flags)
{
	u64 weight;

	if (bpf_ksym_exists(kptrdoc_task_weight))
		weight = kptrdoc_task_weight(task);
	else
		weight = clone_weight(clone_flags);
	__sync_fetch_and_add(&total_weight, weight);

	realtime_kernel = CONFIG_PREEMPT_RT;	/* 0 where the option is unknown */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
