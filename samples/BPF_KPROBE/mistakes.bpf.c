// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG on a kprobe. BPF_PROG unpacks an array of u64 arguments, the
 * context of BTF-typed programs; a kprobe's context is a struct pt_regs,
 * and the verifier lets a program read its first 8 bytes. So the program
 * loads, and "nr" is whatever pt_regs holds first (on x86-64, r15), not
 * the pid find_task_by_vpid() was asked for: user space checks that the
 * two differ.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space: only its calls count */
int asked_nr = 0;		/* written by user space: the pid getpgid() asks for */
int nr_is_the_argument = -1;	/* read back by user space */

SEC("kprobe/find_task_by_vpid")
__success __run("getpgid") __run_set("calling_tid", "pid") __run_set("asked_nr", "arg0")
__run_check("nr_is_the_argument", "0")
__description("BPF_PROG's argument array on a pt_regs context: nr is not the argument")
int BPF_PROG(prog_on_kprobe, pid_t nr)
{
	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	nr_is_the_argument = nr == asked_nr;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
