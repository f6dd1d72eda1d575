// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_KPROBE and BPF_KRETPROBE: a kernel function's arguments at its entry
 * and its return value at its return, by name and type, read from the
 * registers of the calling convention (PT_REGS_PARMn, PT_REGS_RC). The
 * trigger calls getpgid(getppid()); the kernel looks the process up with
 * find_task_by_vpid(nr), and user space checks the pid the entry probe saw
 * and the tgid of the task the function returned.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space: only its calls count */
int nr_seen = -1;		/* read back by user space */
int found_tgid = -1;

SEC("kprobe/find_task_by_vpid")
__success __run("getpgid") __run_set("calling_tid", "pid") __run_check("nr_seen", "arg0")
__description("the pid the kernel looks up for getpgid(), as find_task_by_vpid() receives it")
int BPF_KPROBE(lookup_entry, pid_t nr)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	nr_seen = nr;
	return 0;
}

SEC("kretprobe/find_task_by_vpid")
__success __run("getpgid") __run_set("calling_tid", "pid") __run_check("found_tgid", "ppid")
__description("the task it returns, whose tgid is the process asked about")
int BPF_KRETPROBE(lookup_return, struct task_struct *task)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid || !task)
		return 0;
	found_tgid = BPF_CORE_READ(task, tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
