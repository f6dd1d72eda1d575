// SPDX-License-Identifier: GPL-2.0
/*
 * A mistake when using the arena that __ulong(map_extra, ...) places: pages
 * are allocated by a sleepable kfunc, so only sleepable programs (syscall,
 * or the .s sections) can allocate them. Kernel 6.9 or later.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

#define __arena __attribute__((address_space(1)))
#define NUMA_NO_NODE (-1)

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);
	__ulong(map_extra, 1ull << 44);
} arena SEC(".maps");

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, u32 page_cnt,
				    int node_id, u64 flags) __ksym;

u64 __arena *forks;

SEC("tp_btf/task_newtask")
__failure_on("<7") __msg("program must be sleepable to call sleepable kfunc bpf_arena_alloc_pages")
__description("arena pages are allocated from sleepable programs only, not from a tracepoint")
int BPF_PROG(alloc_in_tracepoint, struct task_struct *task, u64 clone_flags)
{
	u64 __arena *f = forks;

	if (!f) {
		f = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!f)
			return 0;
		forks = f;
	}
	(*f)++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
