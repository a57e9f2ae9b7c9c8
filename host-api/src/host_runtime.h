/* host_runtime.h - `connector-host run`: the runtime that serves every
 * subscription of a host file.
 *
 * Threads: the main thread schedules; a pool of `workers` threads runs the
 * plugin calls (pulls, queue drains) and the instance changes (start,
 * swap, re-init, removal); one thread takes the signals (SIGTERM, SIGINT,
 * SIGHUP); the control channel (host_control.h) serves `swap` and live
 * `status`. A subscription has at most one job at a time, so its instance
 * is never called from two threads at once (the ABI's rule); different
 * subscriptions run in parallel.
 *
 * Hot swap: a subscription's instance is replaced only between its calls:
 * the new version is loaded first (a file that does not load changes
 * nothing), the old instance is shut down, the new one is made with the
 * same settings; if that init fails the old version is started again.
 * Cursors, tokens and the queue live in the state database, so nothing is
 * lost. The old module is unloaded when no instance uses it and its
 * can_unload agrees (host_loader.h). */
#ifndef HOST_RUNTIME_H
#define HOST_RUNTIME_H

typedef struct host_runtime_opts {
    const char *config_path;        /* the host file */
    const char *state_override;     /* --state, or NULL */
    const char *default_plugin_dir; /* when the host file has no plugin_dir */
    int check_only;                 /* --check: validate, init each subscription, exit */
} host_runtime_opts;

/* Run until SIGTERM/SIGINT (then 0) or a fatal start-up problem (the exit
 * code: 3 for an invalid host file, 1 otherwise). */
int host_runtime_main(const host_runtime_opts *o);

#endif
