// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_arena, each one a program the verifier of
 * the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

struct log2_hist {
	u64 slots[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct log2_hist);
	__uint(max_entries, 1);
} hist_map SEC(".maps");

struct log2_hist __arena threads_at_fork;

static u32 log2_slot(u64 value)
{
	u32 slot = 0;

	while (value > 1 && slot < 31) {
		value >>= 1;
		slot++;
	}
	return slot;
}

/* the same function as in the example, without the tag */
__noinline int hist_add_untagged(struct log2_hist __arena *h, u64 value)
{
	h->slots[log2_slot(value)]++;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 type=scalar expected=fp")
__msg("Caller passes invalid args into func#1 ('hist_add_untagged')")
__description("without __arg_arena the parameter is taken for ordinary memory, and an arena address is refused")
int BPF_PROG(arena_untagged, struct task_struct *task, u64 clone_flags)
{
	return hist_add_untagged(&threads_at_fork, clone_flags);
}

__noinline int hist_add(struct log2_hist __arena *h __arg_arena, u64 value)
{
	h->slots[log2_slot(value)]++;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("addr_space_cast insn can only be used in a program that has an associated arena")
__description("arena pointers exist only in programs that use an arena: this one only has a map value to cast")
int BPF_PROG(arena_map_value, struct task_struct *task, u64 clone_flags)
{
	u32 key = 0;
	struct log2_hist *h = bpf_map_lookup_elem(&hist_map, &key);

	if (!h)
		return 0;
	/* a histogram in an array map is not arena memory */
	return hist_add((struct log2_hist __arena *)h, clone_flags);
}

/* "the histogram is always there" */
__noinline int hist_add_nonnull(struct log2_hist __arena *h __arg_arena __arg_nonnull, u64 value)
{
	h->slots[log2_slot(value)]++;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#0 arena cannot be combined with any other tags")
__description("__arg_arena stands alone: arena addresses are checked on each access, so __arg_nonnull has no meaning there")
int BPF_PROG(arena_nonnull, struct task_struct *task, u64 clone_flags)
{
	return hist_add_nonnull(&threads_at_fork, clone_flags);
}

char LICENSE[] SEC("license") = "GPL";
