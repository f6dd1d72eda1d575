// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with a map-in-map declared with __array. The verifier
 * knows the inner maps only through the template of __array(values, ...).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct pid_counts {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
};

struct pid_counts counts SEC(".maps"), spare SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, u32);
	__array(values, struct pid_counts);
} outer SEC(".maps") = {
	.values = { &counts },
};

SEC("tp_btf/task_newtask")
__failure __msg("R1 type=map_value_or_null expected=map_ptr")
__msg_on(">=7.3", "R1 type=map_ptr_or_null expected=map_ptr")
__description("the outer lookup may find an empty slot: check the inner map for NULL before using it")
int BPF_PROG(inner_map_unchecked, struct task_struct *task, u64 clone_flags)
{
	u32 slot = 0, pid = task->pid;
	void *inner;
	u64 *count;

	inner = bpf_map_lookup_elem(&outer, &slot);
	count = bpf_map_lookup_elem(inner, &pid);	/* inner may be NULL */
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("invalid access to map value, value_size=8 off=8 size=8")
__description("values of an inner map are as large as the __array template says, whatever map fills the slot")
int BPF_PROG(inner_value_past_end, struct task_struct *task, u64 clone_flags)
{
	u32 slot = 0, pid = task->pid;
	u64 *count;
	void *inner;

	inner = bpf_map_lookup_elem(&outer, &slot);
	if (!inner)
		return 0;
	count = bpf_map_lookup_elem(inner, &pid);
	if (count)
		count[1] = bpf_ktime_get_ns();	/* the template's value is one u64 */
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_map_update_elem") __msg("R3 type=map_ptr expected=fp")
__description("a program cannot put a map into a map-in-map slot; only user space (or libbpf's initializer) can")
int BPF_PROG(insert_inner_map, struct task_struct *task, u64 clone_flags)
{
	u32 slot = 0;

	return bpf_map_update_elem(&outer, &slot, &spare, BPF_ANY);
}

char LICENSE[] SEC("license") = "GPL";
