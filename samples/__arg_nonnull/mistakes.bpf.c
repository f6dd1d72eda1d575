// SPDX-License-Identifier: GPL-2.0
/*
 * Common mistakes around __arg_nonnull, each one a program the verifier of
 * the kernel running the tests must reject with the quoted message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

struct fork_counts {
	u64 processes;
	u64 threads;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct fork_counts);
	__uint(max_entries, 1024);
} forks SEC(".maps");

__noinline int count_fork(struct fork_counts *c __arg_nonnull)
{
	__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

#define CLONE_THREAD 0x00010000

/* the same function as count_fork(), without the tag */
__noinline int count_fork_untagged(struct fork_counts *c)
{
	__sync_fetch_and_add(&c->processes, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("is expected to be non-NULL")
__msg("Caller passes invalid args into func#1 ('count_fork')")
__description("the caller must prove the pointer is not NULL: a map lookup result needs a check first")
int BPF_PROG(nonnull_maybe_null, struct task_struct *task, u64 clone_flags)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fork_counts *c;

	c = bpf_map_lookup_elem(&forks, &tgid);
	return count_fork(c);	/* the lookup may have found nothing */
}

/* the tag ended up on the wrong parameter */
__noinline int count_thread(struct fork_counts *c, u64 clone_flags __arg_nonnull)
{
	if (c && (clone_flags & CLONE_THREAD))
		__sync_fetch_and_add(&c->threads, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("arg#1 has pointer tag, but is not a pointer type")
__description("__arg_nonnull belongs on a pointer parameter; on a number the program is refused")
int BPF_PROG(nonnull_on_scalar, struct task_struct *task, u64 clone_flags)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fork_counts *c;

	c = bpf_map_lookup_elem(&forks, &tgid);
	if (!c)
		return 0;
	return count_thread(c, clone_flags);
}

SEC("tp_btf/task_newtask")
__failure __msg("Validating count_fork_untagged() func#1")
__msg("R1 invalid mem access 'mem_or_null'")
__description("without __arg_nonnull a global function's pointer argument may be NULL, so the body must check it")
int BPF_PROG(untagged_no_check, struct task_struct *task, u64 clone_flags)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fork_counts *c;

	c = bpf_map_lookup_elem(&forks, &tgid);
	if (!c)
		return 0;
	return count_fork_untagged(c);
}

char LICENSE[] SEC("license") = "GPL";
