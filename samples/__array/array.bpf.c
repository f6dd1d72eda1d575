// SPDX-License-Identifier: GPL-2.0
/*
 * __array: the slots of a map-in-map or of a program array.
 *
 * Double-buffered counters: an array of two hash maps, both created and put
 * in their slots by libbpf from the initializer. The program counts new
 * tasks per parent in the map user space marked active; user space flips
 * `active` and drains the other map at leisure.
 *
 * A program array for tail calls, declared with a function type and filled
 * by user space after loading (an empty slot makes the tail call fall
 * through).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* the inner map definition: a template every map in the outer one matches */
struct fork_counts {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);		/* parent tgid */
	__type(value, u64);		/* children */
};

struct fork_counts counts_even SEC(".maps"), counts_odd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, u32);
	__array(values, struct fork_counts);
} generations SEC(".maps") = {
	.values = { &counts_even, &counts_odd },
};

u32 active;	/* which generation collects, set by user space */

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("count new tasks in the inner hash map that an ARRAY_OF_MAPS declared with __array holds in the active slot")
int BPF_PROG(count_in_generation, struct task_struct *task, u64 clone_flags)
{
	u32 slot = active & 1, parent = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *count;
	void *counts;

	counts = bpf_map_lookup_elem(&generations, &slot);	/* the inner map, or NULL */
	if (!counts)
		return 0;
	count = bpf_map_lookup_elem(counts, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(counts, &parent, &one, BPF_NOEXIST);
	return 0;
}

/* slots hold programs of the same type as the caller's */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__array(values, int (void *));
} stages SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("tail-call into the program user space put in slot 0 of a PROG_ARRAY declared with __array")
int BPF_PROG(dispatch, struct task_struct *task, u64 clone_flags)
{
	bpf_tail_call(ctx, &stages, 0);
	return 0;	/* slot 0 empty: the tail call falls through */
}

char LICENSE[] SEC("license") = "GPL";
