// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_UPROBE and BPF_URETPROBE: the arguments of a user-space function at
 * its entry, and its return value at its return, by name and type. The
 * wrapper the compiler emits reads each one from the register the calling
 * convention puts it in (PT_REGS_PARMn, PT_REGS_RC). The trigger runs a
 * small program that calls kptrdoc_uprobe_target(1001, 2002, 3003, 4004,
 * 5005, 6006), which returns their sum, 21021; user space checks what the
 * first three and the return value the programs saw.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

long seen_a = 0;		/* read back by user space */
long seen_b = 0;
long seen_c = 0;
long seen_ret = 0;

SEC("uprobe")
__success __run("uprobe") __run_check("seen_a", "arg0") __run_check("seen_b", "arg1")
__run_check("seen_c", "arg2")
__description("the three arguments of the traced function, at its entry")
int BPF_UPROBE(on_entry, long a, long b, long c)
{
	seen_a = a;
	seen_b = b;
	seen_c = c;
	return 0;
}

SEC("uretprobe")
__success __run("uprobe") __run_check("seen_ret", "retval")
__description("its return value, at its return")
int BPF_URETPROBE(on_return, long ret)
{
	seen_ret = ret;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
