/*
 * cmd-doctor.c - `orchestra doctor`: this machine's set-up checked, one
 * line per check, OK or what to fix (service_doctor()).  Exit 1 when any
 * check failed.
 */
#include <stdlib.h>

#include "cmd/cmd.h"

/*
 * Each network check within a few seconds: libpq's and the Kubernetes
 * client's own bounds, unless the admin set them.
 */
static void
cmd_doctor_timeouts(const struct config *cfg)
{
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
		setenv("PGCONNECT_TIMEOUT", "3", 1);
	if (config_env(cfg, CONFIG_KUBE_TIMEOUT) == NULL)
		setenv("ORCHESTRA_KUBE_TIMEOUT", "3s", 1);
}

static const char *
cmd_doctor_label(enum doctor_state s)
{
	switch (s) {
	case DOCTOR_OK:
		return "OK";
	case DOCTOR_FAIL:
		return "FAIL";
	case DOCTOR_SKIP:
		return "--";
	}
	BUG("doctor state %d", (int)s);
}

static json_t *
cmd_doctor_json(const doctor_result_vec *v, int nfailed)
{
	const struct doctor_result *r;
	json_t *checks = json_array();

	VEC_FOREACH (r, v)
		json_array_append_new(checks,
		    json_pack("{s:s, s:s, s:s}", "check", r->check, "state",
		        service_doctor_state_name(r->state), "text", r->text));
	return json_pack("{s:b, s:i, s:o}", "ok", nfailed == 0, "failed",
	    nfailed, "checks", checks);
}

static int
cmd_doctor_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	doctor_result_vec results = VEC_INIT;
	const struct doctor_result *r;
	bool json = false;
	int nfailed, ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	cmd_doctor_timeouts(&ctx->cfg);
	nfailed = service_doctor(&ctx->cfg, ctx->cfg_err, &results);
	if (json) {
		cmd_print_json(cmd_doctor_json(&results, nfailed));
	} else {
		VEC_FOREACH (r, &results)
			cmd_printf(stdout, "%-9s %-4s %s\n", r->check,
			    cmd_doctor_label(r->state), r->text);
	}
	service_doctor_release(&results);
	return nfailed > 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

const struct cmd_entry cmd_doctor_entry = {
	.name = "doctor",
	.usage = "doctor [--json]",
	.summary = "check this machine's set-up, one line per check: OK or "
	           "what to fix (exit 1: a check failed)",
	.flags = CMD_ANY_CONFIG,
	.run = cmd_doctor_run,
	.opts = cmd_opts_json,
	.example = "orchestra doctor",
};
