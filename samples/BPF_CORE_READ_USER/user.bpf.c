// SPDX-License-Identifier: GPL-2.0
/*
 * The _USER readers: the same chains as BPF_CORE_READ and BPF_PROBE_READ,
 * with bpf_probe_read_user() for memory of the current process. What is
 * there with a known value when a process forks: the ELF header of its
 * dynamic loader, mapped at AT_BASE (the kernel keeps the process's
 * auxiliary vector in mm->saved_auxv). Its e_phentsize is 56, and its
 * e_ident starts with the magic "\x7fELF". And the word the forking
 * thread's clear_child_tid points at holds its own thread id.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

#define AT_BASE 7

struct user_tid {		/* our own type: no relocation for BPF_PROBE_READ_USER */
	int tid;
};

int forking_tgid = 0;		/* written by user space: only its forks count */
int phentsize = 0;		/* read back by user space */
__u16 phentsize_into = 0;	/* _INTO reads sizeof(*dst) bytes: the field's type */
int phentsize_probe = 0;
__u32 magic = 0;
__u32 magic_probe = 0;
__u32 magic_plain = 0;
int tid_probe = 0;
int tid_probe_into = 0;
int tid_plain = 0;
unsigned char ident[16] = {};
unsigned char ident_probe[16] = {};
unsigned char ident_plain[16] = {};

static __always_inline struct elf64_hdr *loader_header(struct mm_struct *mm)
{
#pragma unroll
	for (int i = 0; i < 40; i += 2) {
		if (mm->saved_auxv[i] == AT_BASE)
			return (struct elf64_hdr *)mm->saved_auxv[i + 1];
	}
	return NULL;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_set("forking_tgid", "tgid")
__run_check("phentsize", "56") __run_check("phentsize_into", "56")
__run_check("phentsize_probe", "56") __run_check("magic", "0x464c457f")
__run_check("magic_probe", "0x464c457f") __run_check("magic_plain", "0x464c457f")
__run_check("tid_probe", "pid") __run_check("tid_probe_into", "pid") __run_check("tid_plain", "pid")
__description("fields of the process's own memory, read by each _USER reader and checked by user space")
int BPF_PROG(read_user_memory, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *me = bpf_get_current_task_btf();
	struct elf64_hdr *ehdr;
	struct user_tid *word;

	if (bpf_get_current_pid_tgid() >> 32 != forking_tgid)
		return 0;
	ehdr = loader_header(me->mm);
	if (!ehdr)
		return 0;
	phentsize = BPF_CORE_READ_USER(ehdr, e_phentsize);
	BPF_CORE_READ_USER_INTO(&phentsize_into, ehdr, e_phentsize);
	phentsize_probe = BPF_PROBE_READ_USER(ehdr, e_phentsize);
	BPF_CORE_READ_USER_STR_INTO(&ident, ehdr, e_ident);
	BPF_PROBE_READ_USER_STR_INTO(&ident_probe, ehdr, e_ident);
	bpf_core_read_user_str(ident_plain, sizeof(ident_plain), &ehdr->e_ident);
	magic = *(__u32 *)ident;
	magic_probe = *(__u32 *)ident_probe;
	magic_plain = *(__u32 *)ident_plain;

	word = (struct user_tid *)me->clear_child_tid;
	tid_probe = BPF_PROBE_READ_USER(word, tid);
	BPF_PROBE_READ_USER_INTO(&tid_probe_into, word, tid);
	bpf_core_read_user(&tid_plain, sizeof(tid_plain), word);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
