// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_USDT: a program on a USDT probe (a DTRACE_PROBEn/STAP_PROBEn site of
 * a user-space binary) with the probe's arguments by name and type. Where
 * each argument is (a register, a stack slot, a constant) is only known
 * from the binary's .note.stapsdt note, so libbpf decodes it at attach
 * time into a spec in the __bpf_usdt_specs map, and the program reads each
 * argument through bpf_usdt_arg(), a subprogram usdt.bpf.h brings in. The
 * trigger runs a small program that passes the probe kptrdoc:args with
 * 1001, -2002 and 3003; user space checks what the program saw.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "kptrdoc.h"

long seen_a = 0, seen_b = 0, seen_c = 0;	/* read back by user space */
long arg_count = -1;

SEC("usdt")
__success __run("usdt") __run_check("seen_a", "arg0") __run_check("seen_b", "arg1")
__run_check("seen_c", "arg2") __run_check("arg_count", "3")
__description("the three arguments of kptrdoc:args, and their count")
int BPF_USDT(on_args, long a, long b, long c)
{
	seen_a = a;
	seen_b = b;
	seen_c = c;
	arg_count = bpf_usdt_arg_cnt(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
