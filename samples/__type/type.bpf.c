// SPDX-License-Identifier: GPL-2.0
/*
 * __type: give a BTF-defined map its key and value types. New tasks are
 * counted per (uid, command) in a hash map whose key and value are structs;
 * libbpf takes key_size and value_size from the types, and the kernel gets
 * the types themselves, so the verifier and bpftool know the layout.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct spawn_key {
	u32 uid;
	char comm[16];		/* the parent's command name */
};

struct spawn_stats {
	u64 count;
	u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct spawn_key);
	__type(value, struct spawn_stats);
} spawns SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("count new tasks per (uid, command) in a hash map with struct key and value types from __type")
int BPF_PROG(count_spawns, struct task_struct *task, u64 clone_flags)
{
	struct spawn_key key = {};	/* zeroed: every byte of a key is compared */
	struct spawn_stats *stats, fresh = { .count = 1 };

	key.uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(key.comm, sizeof(key.comm));

	stats = bpf_map_lookup_elem(&spawns, &key);
	if (!stats) {
		fresh.last_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&spawns, &key, &fresh, BPF_NOEXIST);
		return 0;
	}
	__sync_fetch_and_add(&stats->count, 1);
	stats->last_ns = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
