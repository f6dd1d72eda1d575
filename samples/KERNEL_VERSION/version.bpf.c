// SPDX-License-Identifier: GPL-2.0
/*
 * KERNEL_VERSION(a, b, c) packs a release the way LINUX_VERSION_CODE
 * does: a << 16 | b << 8 | c, with c capped at 255. The compiler folds it
 * to a constant. Compared with
 * LINUX_KERNEL_VERSION, which libbpf fills in from the running kernel
 * (a __kconfig extern), it gates code by release; user space checks the
 * comparison and the capped constant.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

extern int LINUX_KERNEL_VERSION __kconfig;

int at_least_6_1 = -1;			/* read back by user space */
int capped = 0;

SEC("syscall")
__success __run("test_run") __run_check("at_least_6_1", "1") __run_check("capped", "393727")
__description("the running kernel against 6.1.0, and 6.1.300 as KERNEL_VERSION packs it")
int check_version(void *ctx)
{
	at_least_6_1 = LINUX_KERNEL_VERSION >= KERNEL_VERSION(6, 1, 0);
	capped = KERNEL_VERSION(6, 1, 300);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
