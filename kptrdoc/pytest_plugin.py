"""pytest plugin that turns every program of every ``*.bpf.c`` into a test item."""
