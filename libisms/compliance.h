/* The compliance status of this host: one entry per control, each with its
 * state and the accounts behind it. accessctl report renders it. */
#ifndef ISMS_COMPLIANCE_H
#define ISMS_COMPLIANCE_H

#include <jansson.h>

#include "ctx.h"
#include "err.h"
#include "util.h"

/* Controls' states. "fail" makes `accessctl report` exit 1; "info" never does. */
#define ISMS_CONTROL_PASS "pass"
#define ISMS_CONTROL_FAIL "fail"
#define ISMS_CONTROL_INFO "info"

/* Build {"host":..., "generated_at":..., "controls":[{"id","title","criterion",
 * "state","summary","accounts":[...]}...], "failing":N, "charts":{...}}.
 * progress (may be NULL) is told of the active accounts checked, phase "accounts". */
int isms_compliance_report(struct isms_ctx *ctx, isms_progress_fn progress, void *progress_arg,
			   json_t **ret, struct isms_err *err);

#endif
