# Step: a fresh host root with keys, stores and a default policy.
say "Initialise pam_isms in a temporary root"
run $ACCESSCTL init
mkdir -p "$ROOT/etc/pam.d"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nsudo:x:27:\n' > "$ROOT/etc/group"
for svc in sshd sudo login; do
	printf 'auth required %s conf=%s\naccount required %s conf=%s\nsession required %s conf=%s\n' \
		"$BUILD/pam_isms.so" "$CONF" "$BUILD/pam_isms.so" "$CONF" "$BUILD/pam_isms.so" "$CONF" > "$ROOT/etc/pam.d/$svc"
done
say "Check the installation"
run $ACCESSCTL doctor
