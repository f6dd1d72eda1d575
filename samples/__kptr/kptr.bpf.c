// SPDX-License-Identifier: GPL-2.0
/*
 * __kptr: keep a referenced kernel object (a struct bpf_cpumask) in a map
 * value. Each new task gets a copy of its allowed-CPU mask stored under its
 * pid; bpf_kptr_xchg() moves the reference into the map and hands back the
 * previous one, which the program must release.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* kfuncs of kernel/bpf/cpumask.c, resolved by libbpf against the kernel BTF */
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_copy(struct bpf_cpumask *dst, const struct cpumask *src) __ksym;

#define ENOENT 2

struct cpumask_map_value {
	struct bpf_cpumask __kptr *cpumask;
};

struct array_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct cpumask_map_value);
	__uint(max_entries, 65536);
} cpumask_map SEC(".maps");

/* Store @mask in the slot of @pid; takes over the reference to @mask. */
static int cpumask_map_insert(struct bpf_cpumask *mask, u32 pid)
{
	struct cpumask_map_value empty = {}, *slot;
	struct bpf_cpumask *previous;
	u32 key = pid;
	long err;

	/* ARRAY keys are indexes: pids beyond max_entries have no slot */
	err = bpf_map_update_elem(&cpumask_map, &key, &empty, BPF_ANY);
	if (err) {
		bpf_cpumask_release(mask);
		return err;
	}

	slot = bpf_map_lookup_elem(&cpumask_map, &key);
	if (!slot) {
		bpf_cpumask_release(mask);
		return -ENOENT;
	}

	/* the map now owns @mask; we own whatever was there before */
	previous = bpf_kptr_xchg(&slot->cpumask, mask);
	if (previous)
		bpf_cpumask_release(previous);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("record each new task's CPU mask in a map value through a __kptr field")
int BPF_PROG(record_task_cpumask, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask;

	mask = bpf_cpumask_create();
	if (!mask)
		return 0;

	bpf_cpumask_copy(mask, task->cpus_ptr);
	cpumask_map_insert(mask, task->pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
