# pam_isms: PAM module, accessctl and isms-rec, built from one core library.
#   make            build everything into build/ (build-san/ with SAN=1)
#   make check      install missing Debian packages, build, run every test
#   make demo       the whole story in a temporary root
#   make bench      performance figures beside their anchors
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
PKG_CONFIG ?= pkg-config
PAMDIR  ?= $(shell $(PKG_CONFIG) --variable=libdir pam 2>/dev/null || echo /lib)/security
VERSION := 0.1.0

SAN ?= 0
ifeq ($(SAN),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
else
B := build
SANFLAGS :=
OPT := -O2 -g
endif

CC ?= gcc
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
CFLAGS_BASE := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror $(OPT) $(HARDEN) -fPIC -fvisibility=hidden \
	$(SANFLAGS) -Ilibisms -I$(B)/gen -DISMS_VERSION='"$(VERSION)"' \
	-DISMS_RECORDER_PATH='"$(BINDIR)/isms-rec"'
LDFLAGS_BASE := -Wl,-z,relro,-z,now -Wl,--as-needed $(SANFLAGS)

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))

CORE_PKGS   := sqlite3 libsodium liboath inih
MODULE_PKGS := pam $(CORE_PKGS)
# The module is loaded afresh by libpam for every transaction; linking its
# libraries in (from the Debian -dev packages' static archives) saves most of
# the load cost: relocating shared libsqlite3/libsodium/liboath/libinih per
# login took ~1.1 ms here. MODULE_STATIC=0 links them dynamically instead
# (picks up library security updates without a rebuild of pam_isms).
MODULE_STATIC ?= 1
ifeq ($(MODULE_STATIC),1)
MODULE_LIBS = -Wl,--exclude-libs,ALL -Wl,-Bstatic -lsqlite3 -lsodium -loath -linih -Wl,-Bdynamic \
	-lpam -lm -lz -pthread
else
MODULE_LIBS = $(call pc_libs,$(MODULE_PKGS))
endif
CLI_PKGS    := $(CORE_PKGS) ldap jansson libqrencode xlsxwriter libmicrohttpd
REC_PKGS    := $(CORE_PKGS) jansson
TEST_PKGS   := cmocka pam

CFLAGS := $(CFLAGS_BASE) $(call pc_cflags,$(sort $(CLI_PKGS) $(MODULE_PKGS) $(TEST_PKGS)))

LIB_SRC    := $(sort $(filter-out libisms/clock.c,$(wildcard libisms/*.c)))
LIB_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC))
CLOCK_OBJ  := $(B)/obj/libisms/clock.o
TCLOCK_OBJ := $(B)/obj/libisms/clock_test.o
SCHEMA_OBJ := $(B)/gen/schema.o
MOD_SRC    := $(sort $(wildcard pam_isms/*.c))
MOD_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(MOD_SRC))
CLI_SRC    := $(sort $(wildcard accessctl/*.c))
CLI_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRC))
REC_SRC    := $(sort $(wildcard isms-rec/*.c))
REC_OBJ    := $(patsubst %.c,$(B)/obj/%.o,$(REC_SRC))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   := $(patsubst tests/tools/%.c,$(B)/tools/%,$(filter-out %_preload.c,$(TOOL_SRC))) \
	      $(patsubst tests/tools/%_preload.c,$(B)/tools/%.so,$(filter %_preload.c,$(TOOL_SRC)))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

LIBA := $(B)/libisms.a

# Production artefacts, and the test build (clock may be pinned with ISMS_TEST_NOW).
PROGS      := $(B)/pam_isms.so $(B)/accessctl $(B)/isms-rec
TEST_PROGS := $(B)/test/pam_isms.so $(B)/test/accessctl $(B)/test/isms-rec

DEB_PKGS := gcc make pkg-config libpam0g-dev liboath-dev oathtool libldap-dev \
	libsqlite3-dev sqlite3 libsodium-dev libcmocka-dev libinih-dev libcsv-dev \
	libjansson-dev libqrencode-dev libxlsxwriter-dev libmicrohttpd-dev \
	libpamtest0-dev libpam-wrapper libnss-wrapper slapd ldap-utils \
	libpam-oath libpam-google-authenticator zbar-tools imagemagick asciinema \
	python3 python3-openpyxl util-linux binutils curl

.PHONY: all check demo bench install clean deps test-build fuzz fuzz-run
.DEFAULT_GOAL := all

all: $(PROGS)

$(B)/gen/schema.c: $(sort $(wildcard schema/*/*.sql)) tools/embed-schema.sh
	@mkdir -p $(@D)
	sh tools/embed-schema.sh schema > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: %.c $(wildcard libisms/*.h) $(B)/gen/schema.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -c $< -o $@

$(B)/gen/schema.o: $(B)/gen/schema.c
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -c $< -o $@

$(TCLOCK_OBJ): libisms/clock.c libisms/clock.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) -DISMS_TESTING -c $< -o $@

$(LIBA): $(LIB_OBJ) $(SCHEMA_OBJ)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

$(B)/pam_isms.so $(B)/test/pam_isms.so: $(MOD_OBJ) $(LIBA) pam_isms/pam_isms.map
$(B)/pam_isms.so: $(CLOCK_OBJ)
$(B)/test/pam_isms.so: $(TCLOCK_OBJ)
$(B)/pam_isms.so $(B)/test/pam_isms.so:
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) -shared -o $@ $(MOD_OBJ) $(filter %clock.o %clock_test.o,$^) $(LIBA) $(LDFLAGS_BASE) \
		-Wl,--version-script=pam_isms/pam_isms.map -Wl,--no-undefined -Wl,-z,nodelete \
		$(MODULE_LIBS)

$(B)/accessctl: $(CLOCK_OBJ)
$(B)/test/accessctl: $(TCLOCK_OBJ)
$(B)/accessctl $(B)/test/accessctl: $(CLI_OBJ) $(LIBA)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) -o $@ $(CLI_OBJ) $(filter %clock.o %clock_test.o,$^) $(LIBA) $(LDFLAGS_BASE) \
		$(call pc_libs,$(CLI_PKGS)) -lcsv -lm

$(B)/isms-rec: $(CLOCK_OBJ)
$(B)/test/isms-rec: $(TCLOCK_OBJ)
$(B)/isms-rec $(B)/test/isms-rec: $(REC_OBJ) $(LIBA)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) -o $@ $(REC_OBJ) $(filter %clock.o %clock_test.o,$^) $(LIBA) $(LDFLAGS_BASE) \
		$(call pc_libs,$(REC_PKGS)) -lutil -pthread

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBA) $(TCLOCK_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(TCLOCK_OBJ) $(LIBA) $(LDFLAGS_BASE) \
		$(call pc_libs,$(sort $(CLI_PKGS) $(TEST_PKGS))) -lcsv

$(B)/tools/%.so: tests/tools/%_preload.c
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -U_FORTIFY_SOURCE -shared -o $@ $< $(LDFLAGS_BASE) -ldl

$(B)/tools/%: tests/tools/%.c $(LIBA) $(TCLOCK_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< $(TCLOCK_OBJ) $(LIBA) $(LDFLAGS_BASE) \
		$(call pc_libs,$(sort $(CLI_PKGS) $(TEST_PKGS))) -lcsv -lpam_misc -lutil

# Fuzz targets: replayed over their corpus by `make check` (gcc, standalone driver);
# `make fuzz` builds them with clang's libFuzzer for real fuzzing.
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c $(LIBA) $(TCLOCK_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $< tests/fuzz/driver.c $(TCLOCK_OBJ) $(LIBA) $(LDFLAGS_BASE) \
		$(call pc_libs,$(CLI_PKGS)) -lcsv

test-build: $(PROGS) $(TEST_PROGS) $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_BIN)

deps:
	@sh tools/deps.sh $(DEB_PKGS)

check: deps
	$(MAKE) test-build
	B=$(B) SAN=$(SAN) sh tests/run.sh

demo: deps
	$(MAKE) all test-build
	B=$(B) bash tests/e2e/demo.sh

bench: deps
	$(MAKE) all test-build
	B=$(B) bash tests/bench/run.sh

# libFuzzer builds (not part of check): clang and its runtime, installed on demand.
FUZZ_DEB_PKGS := clang libclang-rt-14-dev

fuzz: $(B)/gen/schema.c
	@sh tools/deps.sh $(FUZZ_DEB_PKGS)
	$(MAKE) -C tests/fuzz B=$(CURDIR)/$(B)

fuzz-run: $(B)/gen/schema.c
	@sh tools/deps.sh $(FUZZ_DEB_PKGS)
	$(MAKE) -C tests/fuzz B=$(CURDIR)/$(B) run FUZZER=$(or $(FUZZER),conf) TIME=$(or $(TIME),120)

install: $(PROGS)
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/isms
	install -m 0644 $(B)/pam_isms.so $(DESTDIR)$(PAMDIR)/pam_isms.so
	install -m 0755 $(B)/accessctl $(DESTDIR)$(SBINDIR)/accessctl
	# isms-rec is setuid root: it is the login shell of recorded accounts and must
	# write the root-only recordings and state.db; it drops every privilege before
	# the user's real shell runs (isms-rec(8), PRIVILEGES).
	install -m 4755 $(B)/isms-rec $(DESTDIR)$(BINDIR)/isms-rec
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' 2>/dev/null)
