# orchestrator: PGXS build of the C++17 extension, its unit tests and its test lists.
EXTENSION = orchestrator
EXTVERSION = 0.1.0
MODULE_big = orchestrator

INSTALL_PARTS = $(sort $(wildcard sql/install/*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
# Upgrade scripts, one per release step (sql/orchestrator--A--B.sql), are written by hand and
# shipped as they are.
DATA = $(sort $(wildcard sql/$(EXTENSION)--*--*.sql))

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
BINDING_SRCS = $(sort $(wildcard src/pg/*.cpp src/functions/*.cpp))
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
OBJS = $(CORE_OBJS) $(BINDING_SRCS:.cpp=.o)

REGRESS = boundary hot_path_config security_catalog security_precreated security_shadowing queue_order queue_fairness queue_retries queue_idempotency queue_errors queue_plan queue_cold_plans queue_ready_floor queue_direct_writes worker_state schedules retention alerts daily_summary audit metrics metrics_window dashboard_query health prometheus dashboard governance_rate_limits governance_budget governance_caps governance_keys governance_breakers governance_calendar governance_config_errors
ISOLATION = dispatch_skip_locked dispatch_rollback ready_floor complete_vs_expiry idempotent_enqueue max_concurrent_cap governance_rate_limit governance_budget governance_type_budget governance_concurrency_key governance_half_open governance_pause_seen tick_exclusive alerts_notify daily_summary_notify
ISOLATION_OPTS = --inputdir=test/isolation

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
SERVER_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)

# Our own code is warning-free; PostgreSQL's headers are system headers to the compiler.
WARNINGS = -Wall -Wextra -Werror
PG_CPPFLAGS = -I$(srcdir)/include -isystem $(SERVER_INCLUDE) -DFMT_HEADER_ONLY
# -MMD: each object also writes the headers it includes (a .d file), so header changes rebuild it.
PG_CXXFLAGS = -std=c++17 $(WARNINGS) -MMD -MP
# libstdc++ and libgcc are linked in and their symbols kept private: the library needs only
# libc and libm at run time (Supabase's image offers nothing more).
SHLIB_LINK = -Wl,-Bstatic -lstdc++ -Wl,-Bdynamic -static-libgcc -Wl,--exclude-libs,ALL -lm

EXTRA_CLEAN = test/unit/unit_tests $(OBJS:.o=.bc) $(OBJS:.o=.d)

# No bitcode for JIT inlining: PostgreSQL 15's inliner aborts the backend (an LLVM assertion,
# signal 6) on the C++ bitcode's aliases as soon as a query costly enough to be inlined calls
# one of our C functions (e.g. budget_day_start() over 3 rows with jit_inline_above_cost = 0).
# Queries are still JIT-compiled; our functions are called, not inlined.
override with_llvm = no

include $(PGXS)

# The core is compiled without PostgreSQL's include path: it cannot include postgres.h.
CORE_CPPFLAGS = -I$(srcdir)/include -DORCHESTRATOR_CORE -DFMT_HEADER_ONLY
$(CORE_OBJS) $(CORE_OBJS:.o=.bc): override CPPFLAGS := $(CORE_CPPFLAGS)

-include $(OBJS:.o=.d)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
test/unit/unit_tests: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard include/orchestrator/core/*.hpp test/unit/*.hpp)
	$(CXX) -std=c++17 $(WARNINGS) -O1 -g $(CORE_CPPFLAGS) $(UNIT_SRCS) $(CORE_SRCS) \
		-lgtest_main -lgtest -pthread -o $@

.PHONY: unit format print-% install-upgrade-fixtures freeze-version

# Test only (test/run_all.sh runs it into its temporary install, never into a real one): the frozen
# install scripts of released versions (test/upgrade/versions/), and two fake versions that prove
# the upgrade comparison of test/t/021_upgrade_paths.pl: $(EXTVERSION)-harness, a copy of this
# install script reached by an empty upgrade script (the comparison must find them equal), and
# $(EXTVERSION)-drift, this install script plus test/upgrade/drift.sql reached by an empty upgrade
# script (the comparison must report every change in drift.sql).
EXTENSION_DIR = $(DESTDIR)$(datadir)/extension
UPGRADE_GUARD = \echo Use "ALTER EXTENSION $(EXTENSION) UPDATE" to load this file. \quit
install-upgrade-fixtures: sql/$(EXTENSION)--$(EXTVERSION).sql test/upgrade/drift.sql
	$(MKDIR_P) '$(EXTENSION_DIR)'
	$(foreach f,$(wildcard test/upgrade/versions/$(EXTENSION)--*.sql),$(INSTALL_DATA) $(f) '$(EXTENSION_DIR)/';)
	cp sql/$(EXTENSION)--$(EXTVERSION).sql '$(EXTENSION_DIR)/$(EXTENSION)--$(EXTVERSION)-harness.sql'
	printf '%s\n' '$(UPGRADE_GUARD)' > '$(EXTENSION_DIR)/$(EXTENSION)--$(EXTVERSION)--$(EXTVERSION)-harness.sql'
	cat sql/$(EXTENSION)--$(EXTVERSION).sql test/upgrade/drift.sql \
		> '$(EXTENSION_DIR)/$(EXTENSION)--$(EXTVERSION)-drift.sql'
	printf '%s\n' '$(UPGRADE_GUARD)' > '$(EXTENSION_DIR)/$(EXTENSION)--$(EXTVERSION)--$(EXTVERSION)-drift.sql'

# Before raising EXTVERSION: keeps the current install script as the released one, for the upgrade
# test to install and update.
freeze-version: sql/$(EXTENSION)--$(EXTVERSION).sql
	cp $< test/upgrade/versions/$(EXTENSION)--$(EXTVERSION).sql
unit: test/unit/unit_tests
	test/unit/unit_tests

format:
	clang-format -i $(wildcard include/orchestrator/*/*.hpp src/*/*.cpp test/unit/*.cpp)

print-%:
	@echo $($*)
