# A throwaway OpenLDAP server (Debian's slapd) on a random loopback port, for
# tests, the demo and the bench. Sourced (bash). Never touches the system slapd.
#
#   SLAPD_MODULES="syncprov ppolicy"   overlays to load (ppolicy also brings its schema)
#   SLAPD_SIZELIMIT="size=5 size.prtotal=unlimited"   server size limit for non-root binds
#                                      (default: slapd's 500 per search, paged searches unlimited,
#                                      and none for the reader, as for a replication account)
#   SLAPD_SESSIONLOG=N                 syncprov keeps a log of N changes (deletes sent as such)
#   SLAPD_TLS=1                        a test CA ($SLAPD_DIR/ca.pem) and a certificate for
#                                      127.0.0.1; StartTLS on SLAPD_URI, TLS on SLAPD_LDAPS_URI
#   SLAPD_NAME=name                    a second server in the same test
#   SLAPD_PPOLICY_DEFAULT=DN           with ppolicy: the policy entry applied to every account
#                                      (the caller adds the entry)
#   SLAPD_ACL="access to ..."          extra access directives, one a line, after the password
#                                      rule and before the catch-all "access to * by * read";
#                                      the first that matches wins, so one "access to *" here
#                                      replaces the catch-all (a write-back account, say)
#   slapd_start [LDIF...]              slapadd the LDIF files, start, wait until it answers
#   slapd_stop                         stop it (also done by slapd_stop_all at exit)
#   slapd_restart                      start the stopped server again on the same port with the
#                                      same data; slapd.conf is written anew from the SLAPD_*
#                                      settings in force at the call, so a test may change
#                                      SLAPD_ACL between stop and restart (and must set for the
#                                      restart whatever it gave slapd_start)
#   sldap ldapmodify|ldapadd|ldapdelete|ldapmodrdn|ldapsearch ARGS   as the root DN
# After slapd_start: SLAPD_URI, SLAPD_PORT, SLAPD_DIR, SLAPD_PIDFILE, SLAPD_BASE,
# SLAPD_ROOTDN, SLAPD_ROOTPW; the reader account cn=reader,$SLAPD_BASE (password
# $SLAPD_READERPW) exists when the LDIF defines it (examples/directory.ldif does).
SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
SLAPADD_BIN=${SLAPADD_BIN:-/usr/sbin/slapadd}
SLAPD_BASE=dc=example,dc=com
SLAPD_ROOTDN=cn=admin,$SLAPD_BASE
SLAPD_ROOTPW=rootsecret
SLAPD_READERPW=readersecret
# Clients ignore the machine's ldap.conf and ~/.ldaprc.
export LDAPNOINIT=1

_slapd_conf() {
	local dir=$1 m
	cat <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
EOF
	for m in ${SLAPD_MODULES:-}; do echo "moduleload $m"; done
	if [ -n "${SLAPD_TLS:-}" ]; then
		echo "TLSCACertificateFile $dir/ca.pem"
		echo "TLSCertificateFile $dir/server.pem"
		echo "TLSCertificateKeyFile $dir/server.key"
	fi
	echo "pidfile $dir/slapd.pid"
	echo "argsfile $dir/slapd.args"
	echo "sizelimit ${SLAPD_SIZELIMIT:-size.soft=500 size.hard=500 size.prtotal=unlimited}"
	cat <<EOF
database mdb
maxsize 1073741824
suffix "$SLAPD_BASE"
rootdn "$SLAPD_ROOTDN"
rootpw $SLAPD_ROOTPW
directory $dir/db
index objectClass,entryUUID,entryCSN eq
index uid,uidNumber,memberUid eq
EOF
	[ -z "${SLAPD_SIZELIMIT:-}" ] && echo "limits dn.exact=\"cn=reader,ou=system,$SLAPD_BASE\" size=unlimited"
	cat <<EOF
access to attrs=userPassword by self write by anonymous auth by * none
EOF
	[ -z "${SLAPD_ACL:-}" ] || printf '%s\n' "$SLAPD_ACL"
	echo "access to * by * read"
	for m in ${SLAPD_MODULES:-}; do
		case $m in
		syncprov) printf 'overlay syncprov\nsyncprov-checkpoint 1 1\n'
			[ -z "${SLAPD_SESSIONLOG:-}" ] || echo "syncprov-sessionlog $SLAPD_SESSIONLOG" ;;
		ppolicy) echo "overlay ppolicy"
			[ -z "${SLAPD_PPOLICY_DEFAULT:-}" ] || echo "ppolicy_default \"$SLAPD_PPOLICY_DEFAULT\"" ;;
		esac
	done
}

# _slapd_certs DIR: a throwaway CA and a server certificate for 127.0.0.1.
_slapd_certs() {
	local d=$1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		-subj /CN=isms-test-ca 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
		-subj /CN=127.0.0.1 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/san.ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$d/server.pem" -days 2 -extfile "$d/san.ext" 2>/dev/null
}

slapd_start() {
	local dir tries=0 f
	dir=$(mktemp -d "${T_TMP:-${DEMO:-${BENCH:-/tmp}}}/slapd${SLAPD_NAME:+-$SLAPD_NAME}.XXXXXX")
	mkdir -p "$dir/db"
	[ -z "${SLAPD_TLS:-}" ] || _slapd_certs "$dir" || { echo "openssl failed" >&2; return 1; }
	_slapd_conf "$dir" > "$dir/slapd.conf"
	"$SLAPD_BIN" -Ttest -u -f "$dir/slapd.conf" >"$dir/test.log" 2>&1 ||
		{ cat "$dir/test.log" >&2; return 1; }
	for f in "$@"; do
		"$SLAPADD_BIN" -q -f "$dir/slapd.conf" -l "$f" >"$dir/slapadd.log" 2>&1 ||
			{ echo "slapadd $f failed:" >&2; cat "$dir/slapadd.log" >&2; return 1; }
	done
	SLAPD_DIR=$dir
	SLAPD_PIDFILE=$dir/slapd.pid
	# Several worktrees run tests at once: pick a random port, retry when taken.
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		SLAPD_PORT=$((20000 + RANDOM % 40000))
		if _slapd_launch; then
			_SLAPD_ALL="${_SLAPD_ALL:-} $SLAPD_PIDFILE"
			return 0
		fi
	done
	echo "slapd did not start: $(tail -5 "$dir/slapd.log")" >&2
	return 1
}

slapd_restart() {
	local tries
	_slapd_conf "$SLAPD_DIR" > "$SLAPD_DIR/slapd.conf"
	# The port may still be held for a moment by the server just stopped.
	for tries in 1 2 3 4 5; do
		_slapd_launch && return 0
		sleep 0.5
	done
	echo "slapd did not restart: $(tail -5 "$SLAPD_DIR/slapd.log")" >&2
	return 1
}

# _slapd_launch: run slapd on SLAPD_PORT with SLAPD_DIR's slapd.conf and wait until
# it answers; a server that does not answer is stopped.
_slapd_launch() {
	SLAPD_URI=ldap://127.0.0.1:$SLAPD_PORT
	SLAPD_LDAPS_URI=ldaps://127.0.0.1:$((SLAPD_PORT + 1))
	rm -f "$SLAPD_PIDFILE"
	"$SLAPD_BIN" -f "$SLAPD_DIR/slapd.conf" -h "$SLAPD_URI${SLAPD_TLS:+ $SLAPD_LDAPS_URI}" -s 0 \
		>"$SLAPD_DIR/slapd.log" 2>&1 || return 1
	_slapd_wait && return 0
	slapd_stop
	return 1
}

# Wait until the server answers (it forks; the pid file appears once it listens).
_slapd_wait() {
	local i
	for i in $(seq 1 200); do
		if ldapwhoami -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -w "$SLAPD_ROOTPW" >/dev/null 2>&1; then
			return 0
		fi
		# A server that failed to bind its port exits: no point waiting.
		if [ $i -gt 20 ] && ! { [ -s "$SLAPD_PIDFILE" ] && kill -0 "$(cat "$SLAPD_PIDFILE")" 2>/dev/null; }; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

slapd_stop() {
	local pid i
	[ -n "${SLAPD_PIDFILE:-}" ] && [ -s "$SLAPD_PIDFILE" ] || return 0
	pid=$(cat "$SLAPD_PIDFILE")
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
}

slapd_stop_all() {
	local f
	for f in ${_SLAPD_ALL:-}; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}

# sldap TOOL ARGS: an ldap-utils tool bound as the root DN of the current server.
sldap() {
	local tool=$1; shift
	"$tool" -x -H "$SLAPD_URI" -D "$SLAPD_ROOTDN" -w "$SLAPD_ROOTPW" "$@"
}
