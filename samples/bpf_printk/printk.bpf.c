// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_printk writes a line to the kernel's trace buffer
 * (/sys/kernel/tracing/trace, or trace_pipe to follow it). With up to
 * three arguments it is __bpf_printk: a call of bpf_trace_printk (helper
 * 6) with the format and the values in registers. With more it is
 * __bpf_vprintk: the values go into an array on the stack and the call is
 * bpf_trace_vprintk (helper 177), which older kernels do not have. The
 * format is a static const array: it lives in .rodata. Each program
 * prints the run's nonce, so that user space finds its own line.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

int nonce = 0;				/* written by user space: a marker for this run */

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce")
__run_printed("kptrdoc {nonce}: 1 2")
__description("three arguments: bpf_trace_printk")
int three_values(void *ctx)
{
	bpf_printk("kptrdoc %d: %d %d", nonce, 1, 2);
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce")
__run_printed("kptrdoc {nonce}: 1 2 3 4 5")
__description("six arguments: bpf_trace_vprintk")
int six_values(void *ctx)
{
	bpf_printk("kptrdoc %d: %d %d %d %d %d", nonce, 1, 2, 3, 4, 5);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
