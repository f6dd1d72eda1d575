// SPDX-License-Identifier: GPL-2.0
/*
 * __ulong: a 64-bit map attribute. An arena is memory shared by BPF
 * programs and user space; map_extra is the user-space address where
 * libbpf maps it, here 1 << 44 (16 TiB), which does not fit the 32 bits
 * __uint() can carry. Arenas and their kfuncs need kernel 6.9 or later,
 * hence a file of their own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

#define __arena __attribute__((address_space(1)))	/* a pointer into the arena */
#define NUMA_NO_NODE (-1)

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16);		/* pages */
	__ulong(map_extra, 1ull << 44);		/* where user space sees the arena */
} arena SEC(".maps");

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, u32 page_cnt,
				    int node_id, u64 flags) __ksym;

struct run_stats {
	u64 runs;
	u64 last_tgid;
};

struct run_stats __arena *stats;	/* the same address in BPF and in user space */

SEC("syscall")
__success
__description("allocate a page in an arena whose user-space address is set with __ulong(map_extra, 1ull << 44)")
int record_run(void *ctx)
{
	struct run_stats __arena *s = stats;

	if (!s) {
		s = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!s)
			return 1;
		stats = s;
	}
	s->runs++;
	s->last_tgid = bpf_get_current_pid_tgid() >> 32;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
