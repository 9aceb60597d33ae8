# bench.mk: `make bench` builds the bench guest and runs bench/run_bench.sh (not a test);
# `make bench-domains` and `make bench-events` run the domain and event-channel benchmarks.
BENCH_OBJ := $(O)/obj/bench/dispatch_bench.o

$(O)/dispatch_bench: $(BENCH_OBJ) $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# pvclock drift against Xen system time (host side, no KVM)
$(O)/time_drift: $(O)/obj/bench/time_drift.o $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

bench: $(O)/xhv $(O)/dispatch_bench $(O)/time_drift guests
	bench/run_bench.sh $(O)

# Baseline for the domain benchmark: a raw KVM VM create -> run -> destroy (no xhv code).
$(O)/rawvm_bench: bench/rawvm_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $< -o $@

bench-domains: $(O)/xhv $(O)/xhvd $(O)/rawvm_bench guests
	bench/bench_domains.sh $(O)

# Cross-domain event channels: round trips, one-way bursts, host-side cost per send.
bench-events: $(O)/xhv $(O)/xhvd guests
	bench/bench_events.sh $(O)
