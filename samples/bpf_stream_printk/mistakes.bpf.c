// SPDX-License-Identifier: GPL-2.0
/*
 * A mistake no tool catches at load time: a stream id that is neither
 * BPF_STDOUT nor BPF_STDERR. The verifier accepts the call; the kfunc
 * finds no such stream when it runs, prints nothing and returns an error,
 * which user space reads back.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

extern int bpf_stream_vprintk(int stream_id, const char *fmt__str, const void *args,
			      __u32 len__sz) __ksym;

int written = 1;			/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_check("written", "-2")
__description("stream id 3: loads, prints nothing, returns -ENOENT")
int no_such_stream(void *ctx)
{
	written = bpf_stream_printk(3, "kptrdoc: %d\n", 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
