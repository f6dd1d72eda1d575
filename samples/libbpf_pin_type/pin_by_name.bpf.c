// SPDX-License-Identifier: GPL-2.0
/*
 * enum libbpf_pin_type: LIBBPF_PIN_BY_NAME asks libbpf to pin the map under
 * its own name in the BPF filesystem while loading, or to reuse the map
 * already pinned there. A second object (or a later run of this one) that
 * declares the same map by name shares its counters; the pin keeps the map
 * alive after every fd is closed, until someone unpins it.
 *
 * kptrdoc loads this with a pin root in a private bpffs mount and unpins
 * after the load, so the test leaves nothing under /sys/fs/bpf.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);			/* parent tgid */
	__type(value, u64);			/* tasks created */
	__uint(pinning, LIBBPF_PIN_BY_NAME);	/* shared: <pin root>/fork_counts */
} fork_counts SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("a map pinned by name: libbpf pins it at load (or reuses the pin) so other objects and later runs share it")
int BPF_PROG(count_shared, struct task_struct *task, u64 clone_flags)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *count;

	count = bpf_map_lookup_elem(&fork_counts, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&fork_counts, &parent, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
