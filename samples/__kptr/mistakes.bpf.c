// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes with __kptr fields, each one a program the verifier of the
 * kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;

struct mask_slot {
	struct bpf_cpumask __kptr *owned;		/* referenced: only bpf_kptr_xchg */
	struct bpf_cpumask __kptr_untrusted *seen;	/* unreferenced: plain loads/stores */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct mask_slot);
	__uint(max_entries, 1);
} slots SEC(".maps");

static struct mask_slot *first_slot(void)
{
	int key = 0;

	return bpf_map_lookup_elem(&slots, &key);
}

SEC("tp_btf/task_newtask")
__failure __msg("store to referenced kptr disallowed")
__description("a referenced __kptr field is written only through bpf_kptr_xchg(), never by assignment")
int BPF_PROG(kptr_plain_store, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask;
	struct mask_slot *s;

	s = first_slot();
	if (!s)
		return 0;
	mask = bpf_cpumask_create();
	if (!mask)
		return 0;
	s->owned = mask;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("Unreleased reference")
__description("the old value bpf_kptr_xchg() hands back is a reference the program must release")
int BPF_PROG(kptr_leaked_old_value, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask;
	struct mask_slot *s;

	s = first_slot();
	if (!s)
		return 0;
	mask = bpf_cpumask_create();
	if (!mask)
		return 0;
	bpf_kptr_xchg(&s->owned, mask);	/* the previous mask is dropped on the floor */
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("call bpf_kptr_xchg") __msg("kptr isn't referenced kptr")
__description("bpf_kptr_xchg() works on referenced __kptr fields only, not on __kptr_untrusted ones")
int BPF_PROG(kptr_xchg_untrusted, struct task_struct *task, u64 clone_flags)
{
	struct bpf_cpumask *mask, *old;
	struct mask_slot *s;

	s = first_slot();
	if (!s)
		return 0;
	mask = bpf_cpumask_create();
	if (!mask)
		return 0;
	old = bpf_kptr_xchg(&s->seen, mask);
	if (old)
		bpf_cpumask_release(old);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("kptr access size must be BPF_DW")
__description("a kptr field is one 8-byte pointer: reading half of it is refused")
int BPF_PROG(kptr_narrow_load, struct task_struct *task, u64 clone_flags)
{
	struct mask_slot *s;

	s = first_slot();
	if (!s)
		return 0;
	return *(volatile u32 *)&s->owned != 0;
}

char LICENSE[] SEC("license") = "GPL";
