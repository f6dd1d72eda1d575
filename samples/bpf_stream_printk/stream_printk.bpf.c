// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_stream_printk writes to the program's own BPF stream, BPF_STDOUT or
 * BPF_STDERR (enum bpf_stream_id in vmlinux.h), not to the trace buffer
 * that every program on the machine shares. User space reads a program's
 * stream by its fd: libbpf's bpf_prog_stream_read(), or
 * `bpftool prog tracelog { stdout | stderr } id ID`.
 *
 * The macro packs the arguments into an array of u64 on the stack, puts
 * the format in .rodata and calls the kfunc bpf_stream_vprintk. libbpf
 * 1.7's bpf_helpers.h does not declare that kfunc (a vmlinux.h with kfunc
 * prototypes would), so the program declares it, with the prototype of the
 * kernels that have the four-argument form.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
			      __u32 len__sz) __ksym;

int nonce = 0;				/* written by user space: a marker for this run */
int written = -1;			/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("written", "0")
__run_printed("kptrdoc {nonce}: 1 2 3 4 5")
__description("six values to the program's stdout stream")
int to_stdout(void *ctx)
{
	written = bpf_stream_printk(BPF_STDOUT, "kptrdoc %d: %d %d %d %d %d\n",
				    nonce, 1, 2, 3, 4, 5);
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("written", "0")
__run_printed("kptrdoc {nonce}: on stderr")
__description("a line to the program's stderr stream")
int to_stderr(void *ctx)
{
	written = bpf_stream_printk(BPF_STDERR, "kptrdoc %d: on stderr\n", nonce);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
