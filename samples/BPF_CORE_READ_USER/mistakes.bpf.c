// SPDX-License-Identifier: GPL-2.0
/*
 * Mistakes with user memory. A kernel reader on a user address loads, but
 * fails when it runs: bpf_probe_read_kernel() refuses user addresses,
 * returns an error and zeroes the destination. The _INTO readers read
 * sizeof(*dst) bytes, whatever the field's size: a wider destination takes
 * the next field's bytes too. And the CO-RE _USER readers relocate every
 * field, even of a type of our own that the kernel does not have: libbpf
 * cannot, poisons the read, and names the relocation.
 */
#define AT_BASE 7
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct user_tid {
	int tid;
};

int forking_tgid = 0;
int tid = -1;
long kernel_read_error = 0;
int wide = 0;
int wide_is_not_56 = -1;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("tid", "0") __run_check("kernel_read_error", "-34")
__description("the kernel reader on the thread's own tid word: it loads, fails with -ERANGE and reads 0")
int BPF_PROG(kernel_read_of_user_memory, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *me = bpf_get_current_task_btf();

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	kernel_read_error = bpf_probe_read_kernel(&tid, sizeof(tid), me->clear_child_tid);
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid") __run_check("wide_is_not_56", "1")
__description("an int destination for the 2-byte e_phentsize: _INTO reads 4 bytes, e_phnum's with them")
int BPF_PROG(into_a_wider_destination, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *me = bpf_get_current_task_btf();
	struct elf64_hdr *ehdr = NULL;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
#pragma unroll
	for (int i = 0; i < 40; i += 2) {
		if (me->mm->saved_auxv[i] == AT_BASE) {
			ehdr = (struct elf64_hdr *)me->mm->saved_auxv[i + 1];
			break;
		}
	}
	if (!ehdr)
		return 0;
	BPF_CORE_READ_USER_INTO(&wide, ehdr, e_phentsize);
	wide_is_not_56 = wide != 56;
	return 0;
}

SEC("tp_btf/task_newtask")
__failure __msg("failed to resolve CO-RE relocation <byte_off>") __msg("struct user_tid.tid")
__description("BPF_CORE_READ_USER on our own struct: its field is relocated against a kernel that has no such type")
int BPF_PROG(core_read_of_local_type, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *me = bpf_get_current_task_btf();
	struct user_tid *word = (struct user_tid *)me->clear_child_tid;

	tid = BPF_CORE_READ_USER(word, tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
