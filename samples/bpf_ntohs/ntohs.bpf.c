// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_ntohs: a 16-bit value from network byte order (big-endian) to the
 * CPU's. On a variable it is one byte-swap instruction (be16 on a
 * little-endian target, nothing on a big-endian one); on a constant the
 * compiler folds it.
 */
// kptrdoc: build
// kptrdoc: build target=bpfeb
// kptrdoc: build cpu=v4
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

__u16 wire_port = 0x5000;	/* 80 as it arrives in a packet: bytes 0x00 0x50 */
__u16 host_port = 0;		/* read back from user space */
__u16 folded = 0;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("host_port", "80") __run_check("folded", "80")
__description("a port from the wire converted at run time, and a constant converted by the compiler")
int BPF_PROG(convert_port, struct task_struct *task, u64 clone_flags)
{
	host_port = bpf_ntohs(wire_port);
	folded = bpf_ntohs(0x5000);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
