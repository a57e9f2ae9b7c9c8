/* host_session.h - what the one-shot commands (validate, check, authorize,
 * pull, push) share: a plugin instance made from --plugin and --config for
 * one subscription, and the SIGINT/SIGTERM handling that asks it to stop. */
#ifndef HOST_SESSION_H
#define HOST_SESSION_H

#include <signal.h>
#include <stddef.h>

#include "conn_abi.h"
#include "host_cli.h"
#include "host_ctx.h"
#include "host_instance.h"
#include "host_loader.h"
#include "host_state.h"

typedef struct host_session {
    char subscription[HOST_STATE_SUBSCRIPTION_MAX + 1];
    host_module *mod;
    host_state *state;
    host_ctx *ctx;
    host_instance *inst;
    char *settings; /* the settings file from prepare to init; wiped */
    size_t settings_len;
} host_session;

/* The subscription when --subscription is absent: the settings file's
 * name without directory and extension ("acme" for conf/acme.json). */
void host_session_default_subscription(const char *config, char *buf, size_t cap);

/* Load the plugin, read the settings file, open the state handle (the file
 * is opened on first use), make the context and run init. Returns
 * HOST_EXIT_OK, or an exit code after printing the problem (every settings
 * problem, one per line, prefixed with the file name). */
int host_session_open(host_session *s, const host_command *cmd, const host_global *g,
                      const char *plugin, const char *config);

/* host_session_open in two steps, for a command that reports init's
 * problems its own way. prepare does everything but init (the settings
 * stay in s) and returns HOST_EXIT_OK, or an exit code after printing the
 * problem (the session is then closed). init runs the plugin's init with
 * those settings, wipes them, and returns its status. */
int host_session_prepare(host_session *s, const host_command *cmd, const host_global *g,
                         const char *plugin, const char *config);
conn_status host_session_init(host_session *s, conn_error *err);

/* Shut the instance down and free everything (the settings wiped).
 * Accepts a zeroed session. */
void host_session_close(host_session *s);

/* Route SIGINT and SIGTERM to host_ctx_request_stop(ctx): the plugin ends
 * its call at the next safe point. A second signal ends the process the
 * default way. host_session_signals_restore puts the old handlers back. */
void host_session_signals(host_ctx *ctx);
void host_session_signals_restore(void);

/* The signal that asked to stop (0: none yet). */
int host_session_stop_signal(void);

#endif
