// SPDX-License-Identifier: GPL-2.0
/*
 * Mistakes with bpf_core_read: the size is the program's to get right. A
 * size larger than the destination is refused by the verifier; the value
 * of a field where its address is wanted compiles (with a warning) and the
 * read then fails when it runs, leaving zeroes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

int forking_tgid = 0;
pid_t pid = -1;
long read_error = 0;
char comm[8] = {};

SEC("raw_tp/task_newtask")
__failure __msg("invalid access to map value, value_size=24 off=16 size=16")
__description("bpf_core_read_str of the 16-byte comm into an 8-byte buffer, sized by the field")
int BPF_PROG(size_larger_than_destination, struct task_struct *task, u64 clone_flags)
{
	bpf_core_read_str(comm, sizeof(task->comm), &task->comm);
	return 0;
}

#pragma clang diagnostic ignored "-Wint-to-void-pointer-cast"
SEC("raw_tp/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("pid", "0") __run_check("read_error", "-34")
__description("the pid's value where its address is wanted: the read of that number as an address fails")
int BPF_PROG(value_instead_of_address, struct task_struct *task, u64 clone_flags)
{
	pid_t value;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	value = BPF_CORE_READ(task, pid);
	read_error = bpf_core_read(&pid, sizeof(pid), value);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
