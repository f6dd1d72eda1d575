// SPDX-License-Identifier: GPL-2.0
/*
 * __ulong also takes small values: for a bloom filter map_extra is the
 * number of hash functions (1 to 15). Each new task's parent is tested
 * against the filter and added to it: a "maybe seen before" answer costs
 * no per-key memory.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 4096);	/* expected number of values */
	__type(value, u32);		/* a bloom filter has values, no keys */
	__ulong(map_extra, 3);		/* hash functions per value */
} parents SEC(".maps");

u64 repeat_parents, new_parents;

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("test and record each forking process in a bloom filter whose hash count is set with __ulong(map_extra, 3)")
int BPF_PROG(note_parent, struct task_struct *task, u64 clone_flags)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;

	if (bpf_map_peek_elem(&parents, &parent) == 0) {
		__sync_fetch_and_add(&repeat_parents, 1);	/* probably seen */
		return 0;
	}
	__sync_fetch_and_add(&new_parents, 1);			/* certainly new */
	bpf_map_push_elem(&parents, &parent, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
