# Demo step 10: a fresh installation in the temporary root — init, a second
# init that changes nothing, the PAM services, doctor, and the audit chain.
say "Initialise pam_isms: directories, keys, both stores, a commented config"
run $ACCESSCTL init
say "Running init again changes nothing"
run $ACCESSCTL init
say "The PAM services from examples/pam.d, account phase first"
mkdir -p "$ROOT/etc/pam.d"
cp "$TOP"/examples/pam.d/* "$ROOT/etc/pam.d/"
run grep -h pam_isms "$ROOT/etc/pam.d/sshd"
say "doctor checks config, modes, owners, keys, stores and PAM services"
run $ACCESSCTL doctor
say "Every action is an event in a hash chain; verify it"
run $ACCESSCTL audit verify
