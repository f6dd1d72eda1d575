// SPDX-License-Identifier: GPL-2.0
/*
 * The mistake: bpf_stream_printk without a declaration of its kfunc.
 * libbpf 1.7's bpf_helpers.h leaves bpf_stream_vprintk undeclared (an
 * earlier declaration clashed with vmlinux.h files that have kfunc
 * prototypes), and kptrdoc's vmlinux.h, like bpftool's before 7.5, has
 * none: clang refuses the implicit declaration.
 */
// kptrdoc: build error="call to undeclared function 'bpf_stream_vprintk'"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

SEC("syscall")
__success
__description("bpf_stream_printk with no extern for bpf_stream_vprintk")
int no_declaration(void *ctx)
{
	bpf_stream_printk(BPF_STDOUT, "kptrdoc: %d\n", 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
