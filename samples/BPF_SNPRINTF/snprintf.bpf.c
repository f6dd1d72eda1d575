// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_SNPRINTF formats into a buffer of the program's, as snprintf()
 * would: the arguments go into an array of u64 on the stack, the format
 * into .rodata, and the call is bpf_snprintf (helper 165). It returns the
 * length the whole text needs, terminating NUL included. The program then
 * prints the buffer; user space checks the length and finds the text, with
 * this run's nonce, in the trace buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

int nonce = 0;				/* written by user space: a marker for this run */
long needed = 0;			/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("needed", "13")
__run_printed("kptrdoc {nonce}: [id=0042 ok]")
__description("format into a 32-byte buffer, then print it")
int format_then_print(void *ctx)
{
	char text[32];

	needed = BPF_SNPRINTF(text, sizeof(text), "[id=%04d %s]", 42, "ok");
	bpf_printk("kptrdoc %d: %s", nonce, text);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
