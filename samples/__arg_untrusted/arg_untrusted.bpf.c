// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_untrusted: one global function that describes a task, whatever
 * kind of task pointer its caller holds. Here it gets the forking task
 * (a trusted pointer) and the task that forked before it, kept in a
 * __kptr_untrusted map field without a reference (an untrusted pointer).
 * The function only reads, with fault-tolerant loads, so it accepts both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct task_info {
	u32 pid;
	u32 tgid;
	char comm[16];
};

struct lineage {
	struct task_info forker;	/* the task forking now */
	struct task_info previous;	/* the task that forked before it */
	struct task_struct __kptr_untrusted *last;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct lineage);
	__uint(max_entries, 1);
} lineage SEC(".maps");

/* global, verified once: @t may be any task pointer, even a stale one */
__noinline int task_info_fill(struct task_info *info __arg_nonnull,
			      struct task_struct *t __arg_untrusted)
{
	info->pid = t->pid;
	info->tgid = t->tgid;
	bpf_probe_read_kernel_str(info->comm, sizeof(info->comm), t->comm);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("describe tasks from trusted and untrusted pointers alike with one global function")
int BPF_PROG(record_lineage, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *previous;
	struct lineage *l;
	u32 key = 0;

	l = bpf_map_lookup_elem(&lineage, &key);
	if (!l)
		return 0;

	task_info_fill(&l->forker, bpf_get_current_task_btf());	/* trusted */
	previous = l->last;						/* untrusted */
	if (previous)
		task_info_fill(&l->previous, previous);
	l->last = bpf_get_current_task_btf();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
