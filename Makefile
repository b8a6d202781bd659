# lead_scoring: lead scoring inside PostgreSQL (PGXS build)
EXTENSION = lead_scoring

MODULE_big = lead_scoring
OBJS = src/json_numbers.o src/model.o src/engagement_state.o src/engagement_agg.o src/scoring.o \
	src/logistic.o src/settings.o src/session.o src/tracked_tables.o src/live_trigger.o \
	src/model_change.o src/regrade.o src/funnel.o src/score_stamp.o
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers

# The version being built (default_version in the control file).
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'$$/\1/p" $(EXTENSION).control)
# Its install script is built from one file per concern, in this order; each
# object of the extension is defined once, in its concern's file.
EXTENSION_SQL = $(addprefix src/sql/, \
	header.sql session.sql types.sql scoring_core.sql model_tables.sql grades.sql lead_tables.sql \
	live_scoring.sql rescore.sql settings.sql suppression.sql lifecycle.sql views.sql \
	sales_handoff.sql outcomes.sql sales_views.sql lifecycle_views.sql model_versions.sql calibration.sql training.sql backtest.sql \
	model_scores.sql explanations.sql roles.sql config_dump.sql)
# The update to it from the last released version is built from a delta
# (src/sql/updates/*.sql.in) that takes new definitions from those files.
UPDATES = $(patsubst src/sql/updates/%.sql.in,%.sql,$(wildcard src/sql/updates/$(EXTENSION)--*--*.sql.in))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(UPDATES)
# Released versions keep their full and update scripts as built, frozen.
DATA = $(wildcard src/sql/released/$(EXTENSION)--*.sql)
EXTRA_CLEAN = $(DATA_built)

REGRESS = decay_and_caps fit_rules model_validation live_scoring \
	grades_and_views track parallel_aggregate rescore sales_handoff suppression roles bad_input \
	feedback_calibration feedback_training feedback_versions score_factors score_stamps handoff_loop
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
# `make deps` must work before the server headers (and PGXS) are installed
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
endif

# PGXS tracks no header dependencies: every object includes the shared header.
$(OBJS): src/lead_scoring.h

$(EXTENSION)--$(EXTVERSION).sql: $(EXTENSION_SQL) $(EXTENSION).control
	cat $(EXTENSION_SQL) > $@

$(UPDATES): $(EXTENSION)--%.sql: src/sql/updates/$(EXTENSION)--%.sql.in $(EXTENSION_SQL) src/sql/updates/expand.awk
	awk -v delta=$< -f src/sql/updates/expand.awk $(EXTENSION_SQL) $< > $@ || { rm -f $@; exit 1; }

.PHONY: deps demo test valgrind bench fuzz
# Install what a fresh Debian 12 machine lacks (as root, or through sudo).
deps:
	sh test/install_deps.sh

# Build, install, and run the demo on a throwaway cluster.
demo: deps
	$(MAKE) && $(MAKE) install
	pg_virtualenv -t sh demo/run.sh

# Build, install, and run every test (pg_regress and test/) on a throwaway cluster.
test: deps
	$(MAKE) && $(MAKE) install
	pg_virtualenv -t sh test/run_all.sh

# The pg_regress suite against a server run under valgrind (slow: minutes).
valgrind: deps
	$(MAKE) && $(MAKE) install
	sh test/valgrind.sh

# The benchmark suite: targets as ratios against baselines in the same run
# (long: 18 to 26 minutes at the default sizes on 2 cores; see README, Performance).
bench: deps
	$(MAKE) && $(MAKE) install
	pg_virtualenv -t sh test/bench/run.sh

# Coverage-guided fuzzing of the parsers (libFuzzer, ASan, UBSan) in a throwaway
# server; nothing is installed.  FUZZ_RUNS executions per target (7 targets).
FUZZ_RUNS ?= 1700000
fuzz:
	sh test/install_deps.sh clang-14 libclang-rt-14-dev llvm-14
	$(MAKE) -C test/fuzz
	FUZZ_RUNS=$(FUZZ_RUNS) sh test/fuzz/run.sh
