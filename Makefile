# Thin wrapper: everything real lives in meson.  `make run` and `make check`
# work on a fresh Debian 12 / Ubuntu machine: they install what is missing.

BUILD_DIR ?= build
CHECK_DIR ?= build-check
MESON ?= meson

# Build and run time.
DEPS = meson ninja-build pkg-config gcc git \
       libglib2.0-dev libglib2.0-bin libgtk-4-dev libadwaita-1-dev \
       libwebkitgtk-6.0-dev libsoup-3.0-dev libjson-glib-dev libsqlite3-dev \
       libsodium-dev glib-networking gsettings-desktop-schemas \
       desktop-file-utils appstream python3 ca-certificates
# Headless tests: X server, session bus, screenshots, accessibility bus,
# a window manager for full screen; network namespaces for the partition test;
# gdb for the stacks of a node that hangs on SIGTERM (tests/node/cbcluster.py).
CHECK_DEPS = iproute2 clang xvfb xauth dbus dbus-x11 at-spi2-core imagemagick xdotool x11-utils openbox \
             fonts-cantarell adwaita-icon-theme gdb

# Baselines the benchmarks measure against in the same run (nodejs brings
# npm here; tests/bench/replication installs hypercore with it).
BENCH_DEPS = serf epiphany-browser nodejs

.PHONY: all deps check-deps build run check bench fuzz clean

all: build

deps:
	@tests/install-deps.sh $(DEPS)

check-deps:
	@tests/install-deps.sh $(DEPS) $(CHECK_DEPS)

$(BUILD_DIR)/build.ninja:
	$(MESON) setup $(BUILD_DIR) --buildtype=debugoptimized

build: deps $(BUILD_DIR)/build.ninja
	$(MESON) compile -C $(BUILD_DIR)

# Runs the uninstalled build with its own compiled schemas; the profile's
# data goes to the usual XDG directories.
run: build
	GSETTINGS_SCHEMA_DIR=$(BUILD_DIR)/data CB_DEFAULT_REPO=$(BUILD_DIR)/plugins/repo \
	  $(BUILD_DIR)/app/shell/cloud-bevy $(ARGS)

# Tests run under AddressSanitizer + UndefinedBehaviorSanitizer in their own
# build directory, so `make run` keeps an unsanitized, fast build.
$(CHECK_DIR)/build.ninja:
	$(MESON) setup $(CHECK_DIR) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

check: check-deps $(CHECK_DIR)/build.ninja
	$(MESON) compile -C $(CHECK_DIR)
	@status=0; \
	$(MESON) test -C $(CHECK_DIR) --print-errorlogs $(TESTARGS) || status=$$?; \
	python3 tests/summarize-testlog.py $(CHECK_DIR)/meson-logs/testlog.json || status=1; \
	exit $$status

bench: check-deps build
	@tests/install-deps.sh $(BENCH_DEPS)
	$(BUILD_DIR)/tests/bench/bench-handshake
	$(BUILD_DIR)/tests/sim/bench-sim
	$(BUILD_DIR)/tests/sim/bench-dbset
	$(BUILD_DIR)/tests/bench/bench-materialize
	python3 tests/bench/replication --build-dir $(BUILD_DIR)
	python3 tests/bench/visibility --build-dir $(BUILD_DIR)
	G_TEST_SRCDIR=tests $(BUILD_DIR)/tests/bench/bench-apps-install $(BUILD_DIR)/tests/plugins
	python3 tests/bench/membership --build-dir $(BUILD_DIR)
	python3 tests/bench/startup --build-dir $(BUILD_DIR)

# Runs each libFuzzer harness for FUZZ_SECONDS (clang build in build-fuzz/).
FUZZ_SECONDS ?= 60
fuzz: check-deps
	test -f build-fuzz/build.ninja || CC=clang $(MESON) setup build-fuzz -Dfuzzing=true \
	  -Db_sanitize=address,undefined -Db_lundef=false
	$(MESON) compile -C build-fuzz
	for h in build-fuzz/tests/fuzz/fuzz-*; do \
	  [ -f "$$h" ] && [ -x "$$h" ] || continue; \
	  name=$${h##*/fuzz-}; mkdir -p build-fuzz/corpus-$$name; \
	  $$h -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

clean:
	rm -rf $(BUILD_DIR) $(CHECK_DIR)
