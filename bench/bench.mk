# Benchmarks (not tests): bench/bench-node times node_load over 10,000 guests.
noinst_PROGRAMS += bench/bench-node
bench_bench_node_SOURCES = bench/bench-node.c bench/guests.h bench/guests.c
EXTRA_DIST += bench/README.md
# bench/bench-hook runs the built hook per phase on fake nodes of 100, 1,000 and
# 10,000 guests (cd build && ./bench/bench-hook).
noinst_PROGRAMS += bench/bench-hook
bench_bench_hook_SOURCES = bench/bench-hook.c bench/guests.h bench/guests.c
