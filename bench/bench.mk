# bench.mk: `make bench` builds the bench guest and runs bench/run_bench.sh (not a test).
BENCH_OBJ := $(O)/obj/bench/dispatch_bench.o

$(O)/dispatch_bench: $(BENCH_OBJ) $(LOADER_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

bench: $(O)/xhv $(O)/dispatch_bench guests
	bench/run_bench.sh $(O)
