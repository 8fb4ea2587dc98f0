# The anchor every PAM figure is a ratio to: a bare pam_permit transaction.
base=$(baseline_us 2000)
printf '%-48s %12s µs %14s %8s\n' "pam_permit transaction (baseline)" "$base" "-" "1.00"
