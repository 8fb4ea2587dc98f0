#!/bin/bash
# The manuals cannot drift from the code: every config key accessctl init
# writes is documented in isms.conf(5) under its section with its default (and
# nothing else is), every accessctl command is in accessctl(8), and make install
# puts the programs and every manual under DESTDIR and PREFIX.
. "$(dirname "$0")/../lib/harness.sh"
ACCESSCTL_BIN=$BUILD/test/accessctl

# section.key for every key in a config file, commented out or not.
config_keys() {
	awk '/^\[[a-z]+\]/ { gsub(/[][]/, ""); sec = $0; next }
	     /^#?[a-z_]+ = / { sub(/^#/, ""); print sec "." $1 }' "$1" | sort
}

# section.key for every ".B key" entry under ".SS [section]" in a man page.
manual_keys() {
	awk '/^\.SS \[[a-z]+\]/ { sec = $2; gsub(/[][]/, "", sec); next }
	     /^\.S[HS] / { sec = "" }
	     sec != "" && prev == ".TP" && /^\.B [a-z_]+$/ { print sec "." $2 }
	     { prev = $0 }' "$1" | sort
}

test_every_config_key_is_documented_in_its_section() {
	local conf=$T_TMP/default.conf missing extra
	"$ACCESSCTL_BIN" --root "$T_TMP/r" init >/dev/null
	cp "$T_TMP/r/etc/isms/isms.conf" "$conf"
	[ "$(config_keys "$conf" | wc -l)" -ge 50 ] || fail "too few keys parsed from $conf"
	missing=$(comm -23 <(config_keys "$conf") <(manual_keys "$TOP/man/isms.conf.5"))
	[ -z "$missing" ] || fail "keys missing from man/isms.conf.5: $missing"
	extra=$(comm -13 <(config_keys "$conf") <(manual_keys "$TOP/man/isms.conf.5"))
	[ -z "$extra" ] || fail "man/isms.conf.5 documents keys that do not exist: $extra"
}

test_every_documented_default_matches_the_code() {
	local root=$T_TMP/r2 key sec name def n=0
	"$ACCESSCTL_BIN" --root "$root" init >/dev/null
	# Defaults are written commented out, paths uncommented with the root prefix.
	while IFS=$'\t' read -r key def; do
		sec=${key%%.*}; name=${key#*.}; def=${def#"$root"}
		[ -n "$def" ] || continue
		# the entry: from ".B name" to the next ".TP" within the section
		awk -v s="[$sec]" -v n="$name" '
			$0 == ".SS " s { insec = 1; next } /^\.S[HS] / { insec = 0 }
			insec && $0 == ".B " n { on = 1; next } on && /^\.(TP|S[HS])/ { on = 0 }
			on { print }' "$TOP/man/isms.conf.5" | sed 's/\\-/-/g; s/\\://g' |
			grep -qF "Default: \\fB$def\\fR" || fail "[$sec] $name: default '$def' not in its man entry"
		n=$((n + 1))
	done < <(awk '/^\[[a-z]+\]/ { gsub(/[][]/, ""); sec = $0; next }
		/^#?[a-z_]+ = / { sub(/^#/, ""); k = $1; sub(/^[a-z_]+ = /, ""); print sec "." k "\t" $0 }' \
		"$root/etc/isms/isms.conf")
	[ "$n" -ge 50 ] || fail "only $n defaults checked"
}

test_every_accessctl_command_is_in_the_manual() {
	local cmds cmd
	cmds=$("$ACCESSCTL_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
	[ -n "$cmds" ] || fail "no commands in accessctl --help"
	for cmd in $cmds; do
		grep -qE "^\.(SS|B|BR|IP) \"?$cmd( |\"|$)" "$TOP/man/accessctl.8" || fail "accessctl $cmd is not in man/accessctl.8"
	done
}

test_install_puts_programs_and_every_manual_under_destdir() {
	local d=$T_TMP/destdir page
	make -s -C "$TOP" SAN="${SAN:-0}" install DESTDIR="$d" PREFIX=/opt/isms PAMDIR=/lib/security >/dev/null ||
		fail "make install failed"
	[ -f "$d/lib/security/pam_isms.so" ] || fail "module not in PAMDIR: $(find "$d" -type f)"
	[ -x "$d/opt/isms/sbin/accessctl" ] || fail "accessctl not in PREFIX/sbin"
	[ -x "$d/opt/isms/bin/isms-rec" ] || fail "isms-rec not in PREFIX/bin"
	assert_eq "$(stat -c %a "$d/lib/security/pam_isms.so")" 644
	for page in "$TOP"/man/*.[58]; do
		[ -f "$d/opt/isms/share/man/man${page##*.}/$(basename "$page")" ] ||
			fail "$(basename "$page") not installed"
	done
	[ -f "$d/opt/isms/share/man/man5/isms.conf.5" ] || fail "no isms.conf(5)"
}

run_tests
