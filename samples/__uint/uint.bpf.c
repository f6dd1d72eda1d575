// SPDX-License-Identifier: GPL-2.0
/*
 * __uint: the integer attributes of a BTF-defined map. Every new task is
 * counted under its parent's tgid in a hash map whose elements are allocated
 * on demand (map_flags), and announced to user space through a ring buffer
 * whose size is given in bytes (max_entries).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* allocate elements on update */
	__uint(max_entries, 4096);
	__type(key, u32);			/* parent tgid */
	__type(value, u64);			/* children created */
} children SEC(".maps");

/* a ring buffer has no key or value: max_entries is its size in bytes */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} new_tasks SEC(".maps");

struct new_task_event {
	u32 parent_tgid;
	u32 pid;
};

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("count new tasks per parent in a hash map and report them through a ring buffer, both declared with __uint")
int BPF_PROG(count_children, struct task_struct *task, u64 clone_flags)
{
	u32 parent = bpf_get_current_pid_tgid() >> 32;
	struct new_task_event event = { .parent_tgid = parent, .pid = task->pid };
	u64 one = 1, *count;

	count = bpf_map_lookup_elem(&children, &parent);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&children, &parent, &one, BPF_NOEXIST);

	bpf_ringbuf_output(&new_tasks, &event, sizeof(event), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
