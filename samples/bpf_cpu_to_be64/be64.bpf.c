// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_cpu_to_be64 and bpf_be64_to_cpu: 64-bit values between the CPU's
 * byte order and big-endian. A value in a variable goes to big-endian and
 * back at run time; a constant is converted by the compiler. Built for
 * this machine, for big-endian BPF and for cpu v4 (bswap).
 */
// kptrdoc: build
// kptrdoc: build target=bpfeb
// kptrdoc: build cpu=v4
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kptrdoc.h"

__u64 value = 0x0102030405060708;	/* the CPU's order */
__u64 big = 0, back = 0, folded = 0;	/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_check("big", "578437695752307201")
__run_check("back", "72623859790382856") __run_check("folded", "578437695752307201")
__description("0x0102030405060708 to big-endian and back, and the same constant folded")
int convert(void *ctx)
{
	big = bpf_cpu_to_be64(value);
	/* read big again from memory: otherwise clang cancels the two swaps */
	back = bpf_be64_to_cpu(*(volatile __u64 *)&big);
	folded = bpf_cpu_to_be64(0x0102030405060708);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
