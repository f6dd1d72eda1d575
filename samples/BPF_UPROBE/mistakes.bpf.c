// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_PROG on a uprobe. BPF_PROG unpacks a u64 array of arguments, the
 * context of BTF-typed tracing programs; a uprobe's context is a struct
 * pt_regs. The verifier lets the program read the first 8 bytes of it, so
 * "a" is the saved r15, not the first argument.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int a_is_first_argument = -1;	/* read back by user space */

SEC("uprobe")
__success __run("uprobe") __run_check("a_is_first_argument", "0")
__description("BPF_PROG's argument array on a pt_regs context: the first argument is not where it looks")
int BPF_PROG(prog_on_uprobe, long a, long b, long c)
{
	a_is_first_argument = a == 1001;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
