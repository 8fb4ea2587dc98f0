#!/bin/bash
# Rules of the source that the compiler cannot check.
. "$(dirname "$0")/../lib/harness.sh"

# Statements on the stores pam_isms keeps open stay prepared (libisms/db.c):
# one finalized behind the cache's back would be used after it was freed.
test_statements_are_released_through_isms_db_done() {
	local hits
	hits=$(grep -n "sqlite3_finalize" "$TOP"/libisms/*.c "$TOP"/accessctl/*.c "$TOP"/isms-rec/*.c \
		"$TOP"/pam_isms/*.c | grep -v "^$TOP/libisms/db.c:")
	[ -z "$hits" ] || fail "use isms_db_done, not sqlite3_finalize: $hits"
}

run_tests
