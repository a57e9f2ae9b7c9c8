/* connector_host.c - the reference host command: global options and the
 * dispatch to a subcommand (host_commands.def).
 *
 * Process-wide setup is the host's, never a plugin's: curl_global_init runs
 * here once, before any plugin is loaded, and its cleanup after the last
 * subcommand returns. */
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conn_abi.h"
#include "host_cli.h"
#include "host_exit.h"

#ifndef HOST_VERSION
#error "HOST_VERSION must be defined by the build"
#endif
#ifndef HOST_PLUGIN_DIR
#define HOST_PLUGIN_DIR NULL
#endif

/* The directory a bare plugin file name is looked up in, unless
 * CONNECTOR_HOST_PLUGIN_DIR says otherwise: the build's plugins/
 * (HOST_PLUGIN_DIR) for the executable in the build tree, the installed
 * plugin directory for any installed copy. cmake/Packaging.cmake defines
 * HOST_INSTALLED_PLUGIN_DIR and HOST_BUILD_EXE (the build tree's file). */
static const char *default_plugin_dir(void)
{
#if defined(HOST_INSTALLED_PLUGIN_DIR) && defined(HOST_BUILD_EXE)
    struct stat self, built;

    if (stat("/proc/self/exe", &self) == 0 && stat(HOST_BUILD_EXE, &built) == 0 &&
        self.st_dev == built.st_dev && self.st_ino == built.st_ino)
        return HOST_PLUGIN_DIR;
    return HOST_INSTALLED_PLUGIN_DIR;
#else
    return HOST_PLUGIN_DIR;
#endif
}

#define HOST_COMMAND(name, summary)                                                    \
    int host_cmd_##name(const host_command *cmd, int argc, char **argv, host_global *g);
#include "host_commands.def"
#undef HOST_COMMAND

static const host_command commands[] = {
#define HOST_COMMAND(name, summary) {#name, summary, host_cmd_##name},
#include "host_commands.def"
#undef HOST_COMMAND
};

static void print_help(FILE *out)
{
    const char *dir = default_plugin_dir();

    fprintf(out,
            "Usage: %s [--state FILE] [--subscription NAME] <command> [options]\n"
            "       %s --version | --help\n\n"
            "The reference host for connector plugins (ABI %d.%d).\n\nCommands:\n",
            HOST_PROGRAM, HOST_PROGRAM, CONN_ABI_MAJOR, CONN_ABI_MINOR);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\nRun '%s <command> --help' for a command's options.\n\n"
            "Exit codes: 0 ok, 1 other failure, 2 usage error, 3 invalid settings,\n"
            "4 authentication needed, 5 transient failure (run again later),\n"
            "6 some pushed records were rejected.\n"
            "Environment: CONNECTOR_HOST_PLUGIN_DIR, the directory searched for a bare\n"
            "plugin file name (default %s).\n",
            HOST_PROGRAM, dir != NULL ? dir : "none");
}

static void print_version(void)
{
    printf("%s %s (connector ABI %d.%d; libcurl %s, %s, SQLite %s, json-c %s)\n", HOST_PROGRAM,
           HOST_VERSION, CONN_ABI_MAJOR, CONN_ABI_MINOR, curl_version_info(CURLVERSION_NOW)->version,
           OpenSSL_version(OPENSSL_VERSION), sqlite3_libversion(), json_c_version());
}

static int global_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s%s\nRun '%s --help' for usage.\n", HOST_PROGRAM, what, arg,
            HOST_PROGRAM);
    return HOST_EXIT_USAGE;
}

/* Parse the options before the command name into g; *next is the index of
 * the command. Returns HOST_EXIT_OK to go on, -1 after --help/--version, or
 * HOST_EXIT_USAGE. */
static int parse_global(int argc, char **argv, host_global *g, int *next)
{
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];
        const char **slot = NULL;
        const char *value = NULL;
        size_t n = 0;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(stdout);
            return -1;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
            print_version();
            return -1;
        }
        if (strncmp(arg, "--state", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
            slot = &g->state_path;
            n = 7;
        } else if (strncmp(arg, "--subscription", 14) == 0 &&
                   (arg[14] == '\0' || arg[14] == '=')) {
            slot = &g->subscription;
            n = 14;
        } else {
            return global_usage_error("unknown option: ", arg);
        }
        if (arg[n] == '=')
            value = arg + n + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        if (value == NULL || value[0] == '\0')
            return global_usage_error("this option needs a value: ", arg);
        *slot = value;
    }
    *next = i;
    return HOST_EXIT_OK;
}

int main(int argc, char **argv)
{
    host_global g = {NULL, NULL, default_plugin_dir()};
    const char *env_dir = getenv("CONNECTOR_HOST_PLUGIN_DIR");
    const host_command *cmd = NULL;
    int rc, next = 0;

    /* Before anything else, on the main thread, while no other thread runs:
     * libcurl's global state (and OpenSSL's through it) is the host's. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: libcurl cannot be initialised\n", HOST_PROGRAM);
        return HOST_EXIT_OTHER;
    }
    if (env_dir != NULL && env_dir[0] != '\0')
        g.plugin_dir = env_dir;
    rc = parse_global(argc, argv, &g, &next);
    if (rc != HOST_EXIT_OK) {
        rc = rc < 0 ? HOST_EXIT_OK : rc;
        goto out;
    }
    if (next >= argc) {
        rc = global_usage_error("no command given", "");
        goto out;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[next], commands[i].name) == 0)
            cmd = &commands[i];
    if (cmd == NULL) {
        rc = global_usage_error("unknown command: ", argv[next]);
        goto out;
    }
    rc = cmd->run(cmd, argc - next, argv + next, &g);
out:
    curl_global_cleanup();
    return rc;
}
