# Benchmarks (not tests): bench/bench-node times node_load over 10,000 guests.
noinst_PROGRAMS += bench/bench-node
bench_bench_node_SOURCES = bench/bench-node.c
EXTRA_DIST += bench/README.md
