# Step: every decision above is one event in the hash-chained audit trail.
say "Verify the audit trail"
run $ACCESSCTL audit verify
