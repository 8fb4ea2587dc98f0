#!/bin/bash
# SCIM 2.0 deprovisioning: `accessctl scim serve` on a loopback port, driven with curl.
. "$(dirname "$0")/../lib/harness.sh"
. "$TOP/tests/lib/root.sh"
. "$TOP/tests/revoke/fixtures.sh"

TOKEN=0123456789abcdef-scim-test-token
PATCH_OFF='{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}'

# scim_start N: serve N requests in the background; sets PORT and SCIM_PID.
scim_start() {
	printf '%s\n' "$TOKEN" > "$ROOT/etc/isms/scim.token"
	chmod 600 "$ROOT/etc/isms/scim.token"
	actl scim serve --listen 127.0.0.1:0 --max-requests "$1" > "$T_TMP/scim.out" 2>&1 &
	SCIM_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$T_TMP/scim.out" && break
		kill -0 "$SCIM_PID" 2>/dev/null || break
		sleep 0.1
	done
	PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T_TMP/scim.out")
	[ -n "$PORT" ] || fail "scim did not start: $(cat "$T_TMP/scim.out")"
}

# scim METHOD PATH TOKEN [BODY]: sets CODE and BODY.
scim() {
	local args=(-s -o "$T_TMP/scim.body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
	[ $# -ge 4 ] && args+=(-H "Content-Type: application/scim+json" --data-binary "$4")
	CODE=$(curl "${args[@]}" "http://127.0.0.1:$PORT$2")
	BODY=$(cat "$T_TMP/scim.body")
}

scim_stop() {
	local rc=0
	wait "$SCIM_PID" || rc=$?
	assert_eq "$rc" 0 "scim serve exit status"
}

test_patch_active_false_offboards_the_person() {
	people_root
	scim_start 2
	scim PATCH /scim/v2/Users/E1003 "$TOKEN" "$PATCH_OFF"
	assert_eq "$CODE" 200
	assert_contains "$BODY" '"id":"E1003","active":false'
	assert_eq "$(status_of carol)|$(status_of carol-adm)|$(status_of alice)" "revoked|revoked|active"
	assert_eq "$(sql registry "SELECT source, source_ref, terminated_at = revoked_at FROM terminations")" \
		"scim|PATCH /scim/v2/Users/E1003|1"
	# The same request again: already done, still 200, nothing new.
	scim PATCH /Users/E1003 "$TOKEN" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"active":"False"}}]}'
	assert_eq "$CODE" 200
	# The server exits after its last request; its stores are closed before they are read.
	scim_stop
	assert_eq "$(sql registry "SELECT count(*) FROM revocation_actions WHERE account_name = 'carol' AND step = 'registry'")" 1
}

test_a_bad_token_is_refused_and_changes_nothing() {
	people_root
	scim_start 2
	scim PATCH /Users/E1003 "wrong-token-wrong-token" "$PATCH_OFF"
	assert_eq "$CODE" 401
	assert_contains "$BODY" '"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"]'
	assert_contains "$BODY" '"status":"401"'
	CODE=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/Users/E1003")
	assert_eq "$CODE" 401
	scim_stop
	assert_eq "$(status_of carol)" active
	assert_eq "$(sql registry "SELECT count(*) FROM terminations")" 0
	assert_contains "$(sql state "SELECT result, reason FROM audit_events WHERE event = 'scim'")" "deny|bad_token"
}

test_malformed_requests_get_scim_errors_and_change_nothing() {
	people_root
	scim_start 5
	scim PATCH /Users/E1003 "$TOKEN" '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [ '
	assert_eq "$CODE" 400
	assert_contains "$BODY" '"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"]'
	assert_contains "$BODY" '"status":"400"'
	assert_contains "$BODY" '"scimType":"invalidSyntax"'
	assert_contains "$BODY" 'malformed JSON'
	# active=false together with another change: refused whole.
	scim PATCH /Users/E1003 "$TOKEN" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"title","value":"x"}]}'
	assert_eq "$CODE" 400
	assert_contains "$BODY" '"scimType":"invalidPath"'
	scim PATCH /Users/E1003 "$TOKEN" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}'
	assert_eq "$CODE" 400
	assert_contains "$BODY" "accessctl restore"
	scim PATCH '/Users/E1003;DROP' "$TOKEN" "$PATCH_OFF"
	assert_eq "$CODE" 400
	scim PATCH /Users/E4040 "$TOKEN" "$PATCH_OFF"
	assert_eq "$CODE" 404
	scim_stop
	assert_eq "$(status_of carol)" active
	assert_eq "$(sql registry "SELECT count(*) FROM terminations")" 0
}

test_delete_offboards_the_person() {
	people_root
	scim_start 1
	scim DELETE /Users/E1004 "$TOKEN"
	assert_eq "$CODE" 204
	scim_stop
	assert_eq "$(status_of dave)" revoked
	assert_eq "$(sql registry "SELECT source FROM terminations WHERE employee_no = 'E1004'")" scim
}

test_tls_is_served_when_a_certificate_is_configured() {
	people_root
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$ROOT/etc/isms/scim.key" \
		-out "$ROOT/etc/isms/scim.crt" 2>/dev/null || fail "openssl"
	chmod 600 "$ROOT/etc/isms/scim.key"
	conf_set scim tls_cert "$ROOT/etc/isms/scim.crt"
	conf_set scim tls_key "$ROOT/etc/isms/scim.key"
	scim_start 1
	assert_contains "$(cat "$T_TMP/scim.out")" "(https)"
	CODE=$(curl -s --cacert "$ROOT/etc/isms/scim.crt" -o "$T_TMP/scim.body" -w '%{http_code}' -X DELETE \
		-H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT/Users/E1002")
	assert_eq "$CODE" 204
	scim_stop
	assert_eq "$(status_of bob)" revoked
}

test_token_file_must_be_root_only() {
	people_root
	printf '%s\n' "$TOKEN" > "$ROOT/etc/isms/scim.token"
	chmod 644 "$ROOT/etc/isms/scim.token"
	assert_exit 2 actl scim serve --listen 127.0.0.1:0 --max-requests 1
	assert_contains "$OUT" "readable by its owner only"
	chmod 600 "$ROOT/etc/isms/scim.token"
	assert_exit 2 actl scim serve --listen 0.0.0.0:0 --max-requests 1
	assert_contains "$OUT" "not a loopback address"
}

run_tests
