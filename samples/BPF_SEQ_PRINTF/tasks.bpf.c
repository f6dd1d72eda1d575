// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_SEQ_PRINTF writes to the output of a BPF iterator: an iter program
 * runs once for each object the kernel walks (here every task, and once
 * more with NULL at the end), and what it writes with bpf_seq_printf is
 * what user space reads from the iterator's file. The arguments go into
 * an array of u64 on the stack and the format into .rodata. This program
 * writes a line for each thread of the test process; user space reads the
 * iterator and finds the line of its own thread.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

int nonce = 0;				/* written by user space: a marker for this run */
int target_tgid = 0;			/* written by user space: only its threads */

SEC("iter/task")
__success __run("iter") __run_set("nonce", "nonce") __run_set("target_tgid", "tgid")
__run_printed("kptrdoc {nonce}: thread {pid} of {tgid}")
__description("one line per thread of the test process, into the iterator's output")
int dump_threads(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task || task->tgid != target_tgid)
		return 0;
	BPF_SEQ_PRINTF(seq, "kptrdoc %d: thread %d of %d\n", nonce, task->pid, task->tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
