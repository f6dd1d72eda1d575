// SPDX-License-Identifier: GPL-2.0
/*
 * __arg_arena: a global function that works on memory in a BPF arena.
 * Each fork adds the forking process's thread count to a log2 histogram
 * that lives in the arena, where user space reads it straight from its
 * mmap() of the map, without a syscall. The histogram code is a global
 * function, verified once, that takes an arena pointer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* clang's name for arena memory (libbpf's headers do not define one) */
#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);		/* pages */
} arena SEC(".maps");

struct log2_hist {
	u64 slots[32];
};

/* a global in address space 1: libbpf places it in the arena */
struct log2_hist __arena threads_at_fork;

__noinline int hist_add(struct log2_hist __arena *h __arg_arena, u64 value)
{
	u32 slot = 0;

	while (value > 1 && slot < 31) {
		value >>= 1;
		slot++;
	}
	h->slots[slot]++;
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("a global function updates a histogram in arena memory through an __arg_arena pointer")
int BPF_PROG(hist_threads_at_fork, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *parent = bpf_get_current_task_btf();

	return hist_add(&threads_at_fork, parent->signal->nr_threads);
}

char LICENSE[] SEC("license") = "GPL";
