// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __type: the key and value types fix key_size and
 * value_size, and the verifier checks every key a program passes and every
 * value access against them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct stats {
	u64 count;
};

/* a newer layout of the value, which the map below was not declared with */
struct stats_v2 {
	u64 count;
	u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);		/* 8-byte key */
	__type(value, struct stats);	/* 8-byte value */
} per_pid SEC(".maps");

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_map_lookup_elem") __msg("invalid read from stack R2 off=-4 size=8")
__msg_on("<=6.12", "call bpf_map_lookup_elem")
__msg_on("<=6.12", "invalid indirect access to stack R2 off=-4 size=8")
__description("the key passed to a lookup must be as large as __type(key, ...): a u32 is not a u64")
int BPF_PROG(key_too_small, struct task_struct *task, u64 clone_flags)
{
	u32 pid = task->pid;	/* 4 bytes on the stack, the map reads 8 */

	return bpf_map_lookup_elem(&per_pid, &pid) != NULL;
}

SEC("tp_btf/task_newtask")
__failure __msg("invalid access to map value, value_size=8 off=8 size=8")
__description("a value pointer only reaches as far as __type(value, ...): writing a field past its end is refused")
int BPF_PROG(value_past_end, struct task_struct *task, u64 clone_flags)
{
	u64 pid = task->pid;
	struct stats_v2 *stats;

	/* the map holds struct stats (8 bytes); last_ns lies beyond it */
	stats = bpf_map_lookup_elem(&per_pid, &pid);
	if (stats)
		stats->last_ns = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
