// SPDX-License-Identifier: GPL-2.0
/*
 * A mistake around __arg_untrusted with the bpf_task_acquire() kfunc (in a
 * file of its own: libbpf resolves the kfuncs for the whole object, and
 * older kernels may lack them).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, u64);
	__uint(max_entries, 1);
} last_start SEC(".maps");

/* "take a reference so the task cannot go away while we look at it" */
__noinline int remember_start(struct task_struct *t __arg_untrusted)
{
	struct task_struct *ref;
	u32 key = 0;
	u64 *v;

	ref = bpf_task_acquire(t);
	if (!ref)
		return 0;
	v = bpf_map_lookup_elem(&last_start, &key);
	if (v)
		*v = ref->start_time;
	bpf_task_release(ref);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating remember_start() func#1") __msg("R1 must be a rcu pointer")
__description("a reference cannot be taken on an untrusted task: the object may already be freed")
int BPF_PROG(untrusted_acquire, struct task_struct *task, u64 clone_flags)
{
	return remember_start(task);
}

char LICENSE[] SEC("license") = "GPL";
