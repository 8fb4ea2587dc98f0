# A throwaway slapd (mdb + ppolicy overlay) on a random loopback port, for the
# revocation write-back tests. (tests/lib/slapd.sh belongs to the LDAP helper;
# this one is the revocation suite's own until they are merged.)
# Sourced after harness.sh. Sets LDAP_URI, LDAP_PORT, SLAPD_DIR.
SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
LDAP_BASE="dc=example,dc=com"
LDAP_ADMIN="cn=admin,$LDAP_BASE"
LDAP_ADMIN_PW=admin-secret
LDAP_WRITER="cn=isms-revoker,ou=system,$LDAP_BASE"
LDAP_WRITER_PW=revoker-secret

slapd_config() {
	cat > "$SLAPD_DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile $SLAPD_DIR/slapd.pid
database mdb
maxsize 10485760
suffix "$LDAP_BASE"
rootdn "$LDAP_ADMIN"
rootpw $LDAP_ADMIN_PW
directory $SLAPD_DIR/db
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$LDAP_BASE"
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="$LDAP_WRITER" manage by * read
CONF
}

# slapd_run PORT: start slapd on PORT and wait until it answers; 1 if it does not.
slapd_run() {
	LDAP_PORT=$1
	LDAP_URI="ldap://127.0.0.1:$LDAP_PORT"
	"$SLAPD_BIN" -f "$SLAPD_DIR/slapd.conf" -h "$LDAP_URI" 2>>"$SLAPD_DIR/log" || return 1
	for _ in $(seq 100); do
		ldapsearch -x -H "$LDAP_URI" -b "" -s base >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# slapd_start: a new server with an empty database on a free random port.
slapd_start() {
	SLAPD_DIR=$(mktemp -d "$T_TMP/slapd.XXXXXX")
	mkdir -p "$SLAPD_DIR/db"
	slapd_config
	for _ in 1 2 3 4 5 6 7 8; do
		slapd_run $(( 20000 + RANDOM % 40000 )) && return 0
	done
	fail "slapd did not start: $(tail -5 "$SLAPD_DIR/log" 2>/dev/null)"
}

# slapd_restart: the same server, data and port again (after slapd_stop).
slapd_restart() {
	for _ in 1 2 3 4 5; do
		slapd_run "$LDAP_PORT" && return 0
		sleep 0.5
	done
	fail "slapd did not restart: $(tail -5 "$SLAPD_DIR/log" 2>/dev/null)"
}

slapd_stop() {
	local pid
	[ -f "$SLAPD_DIR/slapd.pid" ] || return 0
	pid=$(cat "$SLAPD_DIR/slapd.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$SLAPD_DIR/slapd.pid"
}

# The default password policy the overlay applies (lockout honoured).
LDAP_POLICY_LDIF="dn: ou=policies,$LDAP_BASE
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$LDAP_BASE
objectClass: person
objectClass: pwdPolicy
cn: default
sn: default
pwdAttribute: userPassword
pwdLockout: TRUE
"

ldap_add() { ldapadd -x -H "$LDAP_URI" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PW" >/dev/null; }
ldap_get() { ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PW" -b "$1" -s base "${@:2}"; }
ldap_find() { ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_ADMIN" -w "$LDAP_ADMIN_PW" -b "$LDAP_BASE" "$@"; }
