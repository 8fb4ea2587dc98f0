# Step: unique, owned accounts. Inventory the host, register owners, and watch
# the account phase allow a personal account and refuse a shared one and a
# duplicate uid (acct phase only, as an SSH-key login runs it).
say "Local accounts: a personal one, a shared 'support', and two names on one uid"
cat >> "$ROOT/etc/passwd" <<'PW'
dana:x:3001:3001:Dana Scott:/home/dana:/bin/bash
support:x:3002:3002:shared support login:/home/support:/bin/bash
eve:x:3003:3003:Eve Adams:/home/eve:/bin/bash
eve2:x:3003:3003:Eve again:/home/eve2:/bin/bash
PW
printf 'dana:x:3001:\nsupport:x:3002:\neve:x:3003:\n' >> "$ROOT/etc/group"
sed -i 's/^sudo:x:27:$/sudo:x:27:dana/' "$ROOT/etc/group"
run $ACCESSCTL inventory --passwd "$ROOT/etc/passwd" --group "$ROOT/etc/group" ||
	echo "(exit $?: findings open)"

say "Give dana and eve their owners; mark support as the shared account it is"
run $ACCESSCTL person add E3001 --name "Dana Scott" --email dana@example.com
run $ACCESSCTL person add E3003 --name "Eve Adams" --email eve@example.com
run $ACCESSCTL account add dana --owner E3001
run $ACCESSCTL account add eve --owner E3003
run $ACCESSCTL account add support --kind shared
run $ACCESSCTL account list --duplicates

say "What the account phase would say for eve, without logging in"
run $ACCESSCTL check eve --service sshd || true

say "Logins (account phase): dana allowed, support and eve refused"
run login sshd dana acct
run login sshd support acct || echo "(refused: shared account)"
run login sshd eve acct || echo "(refused: uid 3003 is not unique)"
