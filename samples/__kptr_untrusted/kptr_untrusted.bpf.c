// SPDX-License-Identifier: GPL-2.0
/*
 * __kptr_untrusted: remember a kernel object in a map value without holding
 * a reference to it. Every fork stores the parent task in the map; the next
 * fork reads the pid of whichever parent was stored before. The stored
 * pointer may outlive the task it points to, so the verifier lets the
 * program read through it only with fault-tolerant loads and never hands it
 * to a helper or kfunc that needs a live object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct last_fork {
	struct task_struct __kptr_untrusted *parent;	/* no reference held */
	u32 parent_pid;		/* pid read through the pointer stored before */
	u64 forks;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct last_fork);
	__uint(max_entries, 1);
} last_fork SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("keep an unreferenced task pointer in a map value and read through it on the next fork")
int BPF_PROG(remember_parent, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *previous;
	struct last_fork *v;
	u32 key = 0;

	v = bpf_map_lookup_elem(&last_fork, &key);
	if (!v)
		return 0;

	/* a load gives an untrusted pointer that may be NULL: check it first */
	previous = v->parent;
	if (previous)
		v->parent_pid = previous->pid;	/* a fault-tolerant read */

	/* a plain store: no bpf_kptr_xchg(), no reference to take or drop */
	v->parent = bpf_get_current_task_btf();
	v->forks++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
