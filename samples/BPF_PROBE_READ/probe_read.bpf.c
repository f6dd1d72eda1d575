// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROBE_READ: BPF_CORE_READ's chain of probe reads, without the
 * __builtin_preserve_access_index() around each field's address. With the
 * types of vmlinux.h that makes no difference: every one of them carries
 * preserve_access_index, so clang emits the same CO-RE relocations either
 * way. The two programs below read the same field; compare their
 * instructions and relocations. With a local struct that lacks the
 * attribute, the offsets are fixed when the program is compiled.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct pair {			/* our own type, no preserve_access_index */
	int first;
	int second;
};

struct pair local_pair = { .first = 1, .second = 42 };
int forking_tgid = 0;		/* written by user space: only its forks count */
pid_t parent_tgid = 0;		/* read back by user space */
pid_t parent_tgid_core = 0;
int second = 0;
char parent_comm[16] = {};

SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("parent_tgid", "tgid")
__description("the parent's tgid with BPF_PROBE_READ: with vmlinux.h's types, relocated like BPF_CORE_READ")
int BPF_PROG(probe_read_parent, struct task_struct *task, u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	parent_tgid = BPF_PROBE_READ(task, real_parent, tgid);
	BPF_PROBE_READ_STR_INTO(&parent_comm, task, real_parent, comm);
	return 0;
}

SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("parent_tgid_core", "tgid")
__description("the same read with BPF_CORE_READ, for comparison: the same relocations")
int BPF_PROG(core_read_parent, struct task_struct *task, u64 clone_flags)
{
	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	parent_tgid_core = BPF_CORE_READ(task, real_parent, tgid);
	return 0;
}

SEC("raw_tp/task_newtask")
__success __run("fork") __run_check("second", "42")
__description("a local struct without preserve_access_index: a fixed offset, no relocation")
int BPF_PROG(probe_read_local, struct task_struct *task, u64 clone_flags)
{
	struct pair *p = &local_pair;

	BPF_PROBE_READ_INTO(&second, p, second);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
