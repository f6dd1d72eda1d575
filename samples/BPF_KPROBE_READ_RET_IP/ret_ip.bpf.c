// SPDX-License-Identifier: GPL-2.0
/*
 * Where find_task_by_vpid() will return to: its caller's address in the
 * kernel. At the entry (kprobe) BPF_KPROBE_READ_RET_IP reads the return
 * address where PT_REGS_RET says it is: on x86-64, the top of the stack,
 * with bpf_probe_read_kernel. At the return (kretprobe) the stack has
 * moved on, and BPF_KRETPROBE_READ_RET_IP reads the word after the saved
 * frame pointer instead, which holds a return address only in code built
 * with frame pointers. Each program checks the read succeeded and gave an
 * address in the x86-64 kernel's text range; user space reads that back.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

int calling_tid = 0;		/* written by user space: only its calls count */
int entry_ip_is_text = -1;	/* read back by user space */
int return_ip_is_text = -1;

static __always_inline int kernel_text(unsigned long ip)
{
	return ip >= 0xffffffff80000000UL;
}

SEC("kprobe/find_task_by_vpid")
__success __run("getpgid") __run_set("calling_tid", "pid") __run_check("entry_ip_is_text", "1")
__description("the return address at the entry, from the top of the stack")
int entry_ip(struct pt_regs *ctx)
{
	unsigned long ip = 0;

	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	if (BPF_KPROBE_READ_RET_IP(ip, ctx) == 0)
		entry_ip_is_text = kernel_text(ip);
	return 0;
}

SEC("kretprobe/find_task_by_vpid")
__success __run("getpgid") __run_set("calling_tid", "pid") __run_check("return_ip_is_text", "1")
__description("a return address at the return, from the frame pointer")
int return_ip(struct pt_regs *ctx)
{
	unsigned long ip = 0;

	if ((__u32)bpf_get_current_pid_tgid() != calling_tid)
		return 0;
	if (BPF_KRETPROBE_READ_RET_IP(ip, ctx) == 0)
		return_ip_is_text = kernel_text(ip);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
