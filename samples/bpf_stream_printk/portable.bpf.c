// SPDX-License-Identifier: GPL-2.0
/*
 * One object for every kernel: the kfunc is declared __weak, so libbpf
 * loads the object where the kernel lacks it (its address is then 0), and
 * the program prints to its stream where the kernel has the kfunc and to
 * the trace buffer elsewhere. User space looks for the line in both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
			      __u32 len__sz) __ksym __weak;

int nonce = 0;				/* written by user space: a marker for this run */
int streamed = -1;			/* read back: 1 where the kernel has the kfunc */

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce")
__run_printed("kptrdoc {nonce}: portable")
__description("the stream where the kernel has one, bpf_printk elsewhere")
int stream_or_trace(void *ctx)
{
	if (bpf_ksym_exists(bpf_stream_vprintk)) {
		streamed = 1;
		bpf_stream_printk(BPF_STDOUT, "kptrdoc %d: portable\n", nonce);
	} else {
		streamed = 0;
		bpf_printk("kptrdoc %d: portable", nonce);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
