/* map_cli.c - run the mapping tools from the command line, for tests and
 * for people working on mappings without a host:
 *
 *   map_cli REQUEST.json            request file ({"op":..., "settings":...})
 *   map_cli -                       request on stdin
 *
 * Prints the tool's JSON answer; exit 0 on CONN_OK, 1 otherwise (the
 * error message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map.h"

static int write_out(void *user, const char *data, size_t len)
{
    (void)user;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static char *slurp(FILE *fp, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    FILE *fp;
    char *req;
    size_t len;
    conn_error err;
    conn_status st;

    if (argc != 2) {
        fprintf(stderr, "usage: map_cli REQUEST.json|-\n");
        return 2;
    }
    fp = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (fp == NULL) {
        perror(argv[1]);
        return 2;
    }
    req = slurp(fp, &len);
    if (fp != stdin)
        fclose(fp);
    if (req == NULL)
        return 2;
    memset(&err, 0, sizeof(err));
    st = acu_map_tool(NULL, req, len, write_out, NULL, &err);
    free(req);
    if (st != CONN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    return 0;
}
