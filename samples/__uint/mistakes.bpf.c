// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __uint map attributes that the verifier catches: the
 * map type and the map flags chosen with __uint decide what a program may
 * do with the map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

/* settings written by user space; BPF_F_RDONLY_PROG makes them read-only to programs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} seen SEC(".maps");

SEC("tp_btf/task_newtask")
__failure __msg("write into map forbidden")
__description("a map declared with __uint(map_flags, BPF_F_RDONLY_PROG) cannot be written by the program")
int BPF_PROG(write_read_only_map, struct task_struct *task, u64 clone_flags)
{
	u32 key = 0;
	u64 *limit;

	limit = bpf_map_lookup_elem(&settings, &key);
	if (limit)
		*limit = 0;	/* the program may only read this value */
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("cannot pass map_type 1 into func bpf_ringbuf_output")
__description("__uint(type, ...) decides which helpers accept the map: a hash map is not a ring buffer")
int BPF_PROG(ringbuf_output_to_hash, struct task_struct *task, u64 clone_flags)
{
	u32 pid = task->pid;

	/* seen is BPF_MAP_TYPE_HASH (1): only BPF_MAP_TYPE_RINGBUF maps take records */
	bpf_ringbuf_output(&seen, &pid, sizeof(pid), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
