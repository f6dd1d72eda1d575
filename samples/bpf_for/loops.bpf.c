// SPDX-License-Identifier: GPL-2.0
/*
 * Open-coded loops: bpf_for(i, start, end), bpf_for_each(num, p, start,
 * end) and bpf_repeat(n). Each is a for() around the numbers iterator:
 * bpf_iter_num_new() to start, bpf_iter_num_next() once per iteration,
 * bpf_iter_num_destroy() when the loop is left (a cleanup attribute),
 * three kfunc calls the instructions show. The verifier checks the body
 * once per distinct state instead of unrolling it, and bpf_for() also
 * proves that i is in [start, end). Each program sums its loop and user
 * space checks the sums.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

long squares[16] = { 0 };		/* filled in by the first program */
long sum_for = 0, sum_each = 0, repeats = 0;	/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_check("sum_for", "1240")
__description("bpf_for: i from 0 to 15, used as an index the verifier knows is in bounds")
int loop_for(void *ctx)
{
	int i;

	bpf_for(i, 0, 16) {
		squares[i] = i * i;
		sum_for += squares[i];
	}
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("sum_each", "120")
__description("bpf_for_each over the numbers iterator: v points at each number")
int loop_each(void *ctx)
{
	int *v;

	bpf_for_each(num, v, 0, 16)
		sum_each += *v;
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_check("repeats", "1000")
__description("bpf_repeat: a thousand iterations with no number exposed")
int loop_repeat(void *ctx)
{
	bpf_repeat(1000)
		repeats++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
