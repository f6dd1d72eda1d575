// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_core_type_exists, bpf_core_type_size and bpf_core_type_matches: what
 * the running kernel's BTF says of a type, relocated by libbpf at load
 * time. struct bpf_arena came with arenas in Linux 6.9; task_struct's
 * size depends on each kernel's version and configuration; and a "flavor"
 * struct (libbpf ignores the ___ suffix) states the shape a program
 * expects: task_struct's state has been an unsigned int __state since 5.14.
 * None of these can fail: a type the kernel does not have exists 0 times,
 * matches nothing and has size 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

int has_task = -1;		/* read back by user space */
int has_arena = -1;
long task_size = -1;
long arena_size = -1;
int shape_new = -1;
int shape_old = -1;

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("has_task", "1") __run_check("shape_new", "1")
__run_check("shape_old", "0")
__description("type facts of the running kernel: whether a type exists, its size, whether it has the expected shape")
int BPF_PROG(kernel_types, struct task_struct *task, u64 clone_flags)
{
	has_task = bpf_core_type_exists(struct task_struct);
	task_size = bpf_core_type_size(struct task_struct);
	has_arena = bpf_core_type_exists(struct bpf_arena);
	arena_size = bpf_core_type_size(struct bpf_arena);	/* 0 where there is none */
	shape_new = bpf_core_type_matches(struct task_struct___new);
	shape_old = bpf_core_type_matches(struct task_struct___old);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
