// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __percpu_kptr fields, each one a program the verifier
 * of the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

extern void *bpf_percpu_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_percpu_obj_drop_impl(void *kptr, void *meta) __ksym;

struct fork_counts {
	u64 processes;
	u64 threads;
};

/* too big for the per-CPU allocator (at most 512 bytes per object) */
struct fork_histogram {
	u64 by_cpu[65];
};

/* a per-CPU copy of a pointer: not plain data */
struct fork_sample {
	u64 count;
	struct task_struct *last_child;
};

struct proc_stats {
	struct fork_counts __percpu_kptr *counts;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, u32);
	__type(value, struct proc_stats);
	__uint(max_entries, 1);
} stats SEC(".maps");

static struct proc_stats *slot(void)
{
	u32 key = 0;

	return bpf_map_lookup_elem(&stats, &key);
}

SEC("tp_btf/task_newtask")
__failure __msg("R1 is ptr_fork_counts access percpu memory: off=0")
__description("a __percpu_kptr points at one copy per CPU: pick a copy with bpf_this_cpu_ptr() or bpf_per_cpu_ptr() before reading")
int BPF_PROG(percpu_direct_read, struct task_struct *task, u64 clone_flags)
{
	struct proc_stats *s = slot();
	struct fork_counts *counts;

	if (!s)
		return 0;
	counts = s->counts;
	if (!counts)
		return 0;
	return counts->processes;	/* which CPU's counter? */
}

SEC("tp_btf/task_newtask")
__failure __msg("store to referenced kptr disallowed")
__description("the field owns its per-CPU object: put one in with bpf_kptr_xchg(), not by assignment")
int BPF_PROG(percpu_plain_store, struct task_struct *task, u64 clone_flags)
{
	struct proc_stats *s = slot();
	struct fork_counts *fresh;

	if (!s)
		return 0;
	fresh = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct fork_counts), NULL);
	if (!fresh)
		return 0;
	s->counts = fresh;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Unreleased reference")
__description("the object bpf_kptr_xchg() hands back must be freed with bpf_percpu_obj_drop_impl()")
int BPF_PROG(percpu_leak_old, struct task_struct *task, u64 clone_flags)
{
	struct proc_stats *s = slot();
	struct fork_counts *fresh;

	if (!s)
		return 0;
	fresh = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct fork_counts), NULL);
	if (!fresh)
		return 0;
	bpf_kptr_xchg(&s->counts, fresh);	/* the old counters are lost */
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("bpf_percpu_obj_new type size (520) is greater than 512")
__description("per-CPU objects are small: at most 512 bytes for each CPU's copy")
int BPF_PROG(percpu_too_big, struct task_struct *task, u64 clone_flags)
{
	struct fork_histogram *h;

	h = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct fork_histogram), NULL);
	if (h)
		bpf_percpu_obj_drop_impl(h, NULL);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("bpf_percpu_obj_new type ID argument must be of a struct of scalars")
__description("per-CPU objects hold plain numbers only: a struct with a pointer member is refused")
int BPF_PROG(percpu_pointer_member, struct task_struct *task, u64 clone_flags)
{
	struct fork_sample *sample;

	sample = bpf_percpu_obj_new_impl(bpf_core_type_id_local(struct fork_sample), NULL);
	if (sample)
		bpf_percpu_obj_drop_impl(sample, NULL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
