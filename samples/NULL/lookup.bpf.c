// SPDX-License-Identifier: GPL-2.0
/*
 * NULL is ((void *)0), for the pointers helpers may return empty:
 * bpf_map_lookup_elem() on a hash map gives a map value or NULL, and the
 * verifier follows both. Compared with NULL, the pointer is known to be one or the
 * other on each branch (if r0 == 0x0 goto ...).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, long);
} counters SEC(".maps");

long seen = -1;				/* read back by user space */

SEC("syscall")
__success __run("test_run") __run_check("seen", "1")
__description("a lookup checked against NULL before the value is used")
int count(void *ctx)
{
	__u32 key = 0;
	long zero = 0, *value;

	bpf_map_update_elem(&counters, &key, &zero, BPF_NOEXIST);
	value = bpf_map_lookup_elem(&counters, &key);
	if (value == NULL)
		return 0;
	seen = ++*value;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
