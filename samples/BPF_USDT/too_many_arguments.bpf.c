// SPDX-License-Identifier: GPL-2.0
/*
 * A USDT probe has at most BPF_USDT_MAX_ARG_CNT (12) arguments: the spec
 * libbpf fills in has room for twelve, and BPF_USDT has helper macros up
 * to twelve. With a thirteenth, the argument counter BPF_USDT uses counts
 * no further and clang finds no helper macro of that name.
 */
// kptrdoc: build error="use of undeclared identifier '___bpf_usdt_args"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

SEC("usdt")
int BPF_USDT(thirteen, long a1, long a2, long a3, long a4, long a5, long a6, long a7,
	     long a8, long a9, long a10, long a11, long a12, long a13)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
