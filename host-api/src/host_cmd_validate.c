/* host_cmd_validate.c - `validate`: run a plugin's init on a settings file
 * and print every problem it reports. */
#include <stdio.h>
#include <string.h>

#include "host_cli.h"
#include "host_exit.h"
#include "host_loader.h"
#include "host_session.h"

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g);

/* Print each line of a validation message as "<config>: <line>". */
static size_t print_problems(const char *config, const char *message)
{
    const char *line = message;
    size_t count = 0;

    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);

        if (n > 0) {
            printf("%s: %.*s\n", config, n, line);
            count++;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return count;
}

int host_cmd_validate(const host_command *cmd, int argc, char **argv, host_global *g)
{
    static const host_usage usage = {
        "--plugin FILE --config FILE",
        "Loads the plugin and runs its init with the settings file, without any network\n"
        "call. Prints every problem, one per line, prefixed with the file name, and exits\n"
        "with 3 when the settings are invalid. A bare plugin file name is looked up in the\n"
        "plugin directory. The subscription defaults to the settings file's name without\n"
        "its extension."};
    const char *plugin = NULL, *config = NULL;
    host_option opts[] = {
        {"plugin", "FILE", "the plugin file (acumatica-<version>.so)", &plugin, NULL, 1},
        {"config", "FILE", "the subscription's settings (one JSON object)", &config, NULL, 1},
        {NULL, NULL, NULL, NULL, NULL, 0}};
    host_session s;
    size_t problems;
    conn_error err;
    conn_status st;
    int rc;

    rc = host_cli_parse(cmd, &usage, opts, argc, argv, g);
    if (rc != HOST_EXIT_OK)
        return rc < 0 ? HOST_EXIT_OK : rc;
    /* The state file is opened only if the plugin touches state. */
    rc = host_session_prepare(&s, cmd, g, plugin, config);
    if (rc != HOST_EXIT_OK)
        return rc;
    st = host_session_init(&s, &err);
    if (st == CONN_OK) {
        printf("%s: valid settings for %s %s\n", config, host_module_name(s.mod),
               host_module_version(s.mod));
        rc = HOST_EXIT_OK;
    } else if (st == CONN_INVALID) {
        problems = print_problems(config, err.message);
        host_cli_error(cmd, "%s is invalid: %zu problem%s", config, problems,
                       problems == 1 ? "" : "s");
        rc = HOST_EXIT_INVALID;
    } else {
        rc = host_cli_fail(cmd, st, err.message);
    }
    host_session_close(&s);
    return rc;
}
