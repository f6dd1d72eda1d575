"""The kernel matrix: every sample program loaded on several real kernels."""
