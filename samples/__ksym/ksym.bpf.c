// SPDX-License-Identifier: GPL-2.0
/*
 * __ksym: declare kernel functions (kfuncs) the program calls. libbpf finds
 * each extern by name in the kernel's BTF, checks the prototype and patches
 * the call with the kfunc's BTF id. Here every new thread is charged to its
 * process: bpf_task_from_pid() returns a referenced task_struct of the
 * thread-group leader, which must be handed back with bpf_task_release().
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct process {
	char comm[16];
	u64 tasks_created;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, s32);			/* tgid */
	__type(value, struct process);
} processes SEC(".maps");

SEC("tp_btf/task_newtask")
__success __run("fork")
__description("call the bpf_task_from_pid()/bpf_task_release() kfuncs, declared as __ksym externs")
int BPF_PROG(charge_to_process, struct task_struct *task, u64 clone_flags)
{
	struct process fresh = {}, *proc;
	struct task_struct *leader;
	s32 tgid = task->tgid;

	leader = bpf_task_from_pid(tgid);	/* acquires a reference, or NULL */
	if (!leader)
		return 0;

	proc = bpf_map_lookup_elem(&processes, &tgid);
	if (proc) {
		__sync_fetch_and_add(&proc->tasks_created, 1);
	} else {
		bpf_probe_read_kernel_str(fresh.comm, sizeof(fresh.comm), leader->comm);
		fresh.tasks_created = 1;
		bpf_map_update_elem(&processes, &tgid, &fresh, BPF_NOEXIST);
	}

	bpf_task_release(leader);		/* every acquired reference goes back */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
