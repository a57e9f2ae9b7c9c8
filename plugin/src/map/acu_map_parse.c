/* acu_map_parse.c - the expression language's parser.
 *
 * A small recursive-descent parser (precedence climbing by level) that turns
 * an expression or a template into a tree allocated in a pool. It is total:
 * any input gives a tree or one error with its column; the nesting depth,
 * the text length and the number of arguments are capped, so hostile input
 * cannot exhaust the stack or memory. Names of fields and functions are
 * checked later, by the binder (acu_map_compile.c), which knows the entity.
 *
 *   expr    := or ('?' expr ':' expr)?
 *   or      := and (('or' | '||') and)*
 *   and     := eq (('and' | '&&') eq)*
 *   eq      := cmp (('==' | '!=') cmp)*
 *   cmp     := add (('<' | '<=' | '>' | '>=') add)*
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/' | '%') unary)*
 *   unary   := ('-' | '!' | 'not') unary | primary
 *   primary := number | string | true | false | null | '(' expr ')'
 *            | name '(' [expr (',' expr)*] ')' | path
 *   path    := ('parent' '.')* ('this' | 'parent' | name) ('.' name | '[' int ']' | '[' string ']')*
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

typedef enum tok_kind {
    T_EOF = 0,
    T_NUM,
    T_STR,
    T_NAME,
    T_LP, T_RP, T_LB, T_RB, T_DOT, T_COMMA, T_QUEST, T_COLON, T_RBRACE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_AND, T_OR, T_NOT,
    T_ERR
} tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t start;    /* byte offset in text */
    size_t len;
    double num;
    char *str;       /* T_STR: unescaped, in the pool */
    size_t slen;
} tok;

typedef struct parser {
    acu_pool *pool;
    const char *text;
    size_t len;
    size_t pos;
    tok cur;
    int depth;
    int in_template;
    acu_expr_error *err;
    int failed;
} parser;

static void fail(parser *p, size_t at, const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void fail(parser *p, size_t at, const char *fmt, ...)
{
    va_list ap;

    if (p->failed)
        return;
    p->failed = 1;
    p->err->column = (int)at + 1;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
    va_end(ap);
}

static int is_name_start(int c)
{
    return isalpha(c) || c == '_' || c == '$';
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == '$';
}

static int name_is(const parser *p, const tok *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == T_NAME && t->len == n &&
           memcmp(p->text + t->start, word, n) == 0;
}

/* Read a quoted string at p->pos (quote q) into the pool. */
static void lex_string(parser *p, tok *t)
{
    char q = p->text[p->pos];
    size_t i = p->pos + 1;
    acu_buf b;

    acu_buf_init(&b, ACU_MAP_MAX_EXPR_LEN + 1);
    while (i < p->len && p->text[i] != q) {
        char c = p->text[i];
        if (c == '\\') {
            if (i + 1 >= p->len)
                break;
            c = p->text[++i];
            switch (c) {
            case 'n': acu_buf_add(&b, "\n", 1); break;
            case 't': acu_buf_add(&b, "\t", 1); break;
            case 'r': acu_buf_add(&b, "\r", 1); break;
            case '\\': case '\'': case '"': case '/': case '{': case '}':
                acu_buf_add(&b, &c, 1);
                break;
            default:
                acu_buf_free(&b);
                fail(p, i - 1, "unknown escape '\\%c' in a string; use \\\\ for a backslash", c);
                t->kind = T_ERR;
                return;
            }
            i++;
            continue;
        }
        acu_buf_add(&b, &c, 1);
        i++;
    }
    if (i >= p->len) {
        acu_buf_free(&b);
        fail(p, p->pos, "the string that starts here is not closed with %c", q);
        t->kind = T_ERR;
        return;
    }
    if (b.failed) {
        acu_buf_free(&b);
        fail(p, p->pos, "the string is too long");
        t->kind = T_ERR;
        return;
    }
    t->kind = T_STR;
    t->slen = b.len;
    t->str = acu_map_pool_strndup(p->pool, b.data ? b.data : "", b.len);
    acu_buf_free(&b);
    if (t->str == NULL) {
        fail(p, p->pos, "out of memory");
        t->kind = T_ERR;
        return;
    }
    t->len = i + 1 - p->pos;
    p->pos = i + 1;
}

static void next(parser *p)
{
    tok *t = &p->cur;
    const char *s = p->text;
    char c;

    memset(t, 0, sizeof(*t));
    while (p->pos < p->len && isspace((unsigned char)s[p->pos]))
        p->pos++;
    t->start = p->pos;
    if (p->pos >= p->len) {
        t->kind = T_EOF;
        return;
    }
    c = s[p->pos];
    if (isdigit((unsigned char)c)) {
        size_t i = p->pos;
        char buf[64];
        while (i < p->len && isdigit((unsigned char)s[i]))
            i++;
        if (i + 1 < p->len && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
            i++;
            while (i < p->len && isdigit((unsigned char)s[i]))
                i++;
        }
        if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < p->len && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < p->len && isdigit((unsigned char)s[j])) {
                while (j < p->len && isdigit((unsigned char)s[j]))
                    j++;
                i = j;
            }
        }
        if (i - p->pos >= sizeof(buf)) {
            fail(p, p->pos, "the number is too long");
            t->kind = T_ERR;
            return;
        }
        memcpy(buf, s + p->pos, i - p->pos);
        buf[i - p->pos] = '\0';
        t->kind = T_NUM;
        t->num = strtod(buf, NULL);
        t->len = i - p->pos;
        p->pos = i;
        if (i < p->len && is_name_start((unsigned char)s[i])) {
            fail(p, i, "a name cannot follow a number without an operator");
            t->kind = T_ERR;
        }
        return;
    }
    if (is_name_start((unsigned char)c)) {
        size_t i = p->pos;
        while (i < p->len && is_name_char((unsigned char)s[i]))
            i++;
        t->kind = T_NAME;
        t->len = i - p->pos;
        p->pos = i;
        if (name_is(p, t, "and"))
            t->kind = T_AND;
        else if (name_is(p, t, "or"))
            t->kind = T_OR;
        else if (name_is(p, t, "not"))
            t->kind = T_NOT;
        return;
    }
    if (c == '\'' || c == '"') {
        lex_string(p, t);
        return;
    }
    t->len = 1;
    p->pos++;
    switch (c) {
    case '(': t->kind = T_LP; return;
    case ')': t->kind = T_RP; return;
    case '[': t->kind = T_LB; return;
    case ']': t->kind = T_RB; return;
    case '.': t->kind = T_DOT; return;
    case ',': t->kind = T_COMMA; return;
    case '?': t->kind = T_QUEST; return;
    case ':': t->kind = T_COLON; return;
    case '}': t->kind = T_RBRACE; return;
    case '+': t->kind = T_PLUS; return;
    case '-': t->kind = T_MINUS; return;
    case '*': t->kind = T_STAR; return;
    case '/': t->kind = T_SLASH; return;
    case '%': t->kind = T_PCT; return;
    default: break;
    }
    if (p->pos < p->len) {
        char d = s[p->pos];
        t->len = 2;
        if (c == '=' && d == '=') { p->pos++; t->kind = T_EQ; return; }
        if (c == '!' && d == '=') { p->pos++; t->kind = T_NE; return; }
        if (c == '<' && d == '=') { p->pos++; t->kind = T_LE; return; }
        if (c == '>' && d == '=') { p->pos++; t->kind = T_GE; return; }
        if (c == '&' && d == '&') { p->pos++; t->kind = T_AND; return; }
        if (c == '|' && d == '|') { p->pos++; t->kind = T_OR; return; }
        t->len = 1;
    }
    switch (c) {
    case '<': t->kind = T_LT; return;
    case '>': t->kind = T_GT; return;
    case '!': t->kind = T_NOT; return;
    case '=':
        fail(p, t->start, "use == to compare two values ('=' alone is not an operator)");
        break;
    case '&':
        fail(p, t->start, "use 'and' or && for logical and; join strings with concat() or +");
        break;
    case '|':
        fail(p, t->start, "use 'or' or || for logical or");
        break;
    case '{':
        fail(p, t->start, p->in_template ? "'{' cannot start inside another {...}"
                                         : "unexpected '{'");
        break;
    default:
        if ((unsigned char)c >= 0x80)
            fail(p, t->start, "unexpected non-ASCII character; names are ASCII and text goes in quotes");
        else
            fail(p, t->start, "unexpected character '%c'", c);
        break;
    }
    t->kind = T_ERR;
}

static acu_expr *node(parser *p, acu_op op, size_t at, int nargs)
{
    acu_expr *e = acu_map_pool_alloc(p->pool, sizeof(*e));

    if (e == NULL) {
        fail(p, at, "out of memory");
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    e->op = (uint8_t)op;
    e->column = (int32_t)at + 1;
    e->nargs = (uint16_t)nargs;
    if (nargs > 0) {
        e->u.args = acu_map_pool_alloc(p->pool, sizeof(acu_expr *) * (size_t)nargs);
        if (e->u.args == NULL) {
            fail(p, at, "out of memory");
            return NULL;
        }
        memset(e->u.args, 0, sizeof(acu_expr *) * (size_t)nargs);
    }
    return e;
}

static const char *tok_desc(parser *p, const tok *t, char *buf, size_t cap)
{
    switch (t->kind) {
    case T_EOF: return p->in_template ? "the end of the {...} part" : "the end of the expression";
    case T_NUM:
        snprintf(buf, cap, "the number %.*s", (int)(t->len > 20 ? 20 : t->len), p->text + t->start);
        return buf;
    case T_STR: return "a quoted text";
    case T_NAME:
        snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), p->text + t->start);
        return buf;
    default:
        snprintf(buf, cap, "'%.*s'", (int)t->len, p->text + t->start);
        return buf;
    }
}

static acu_expr *parse_expr(parser *p);

static int enter(parser *p)
{
    if (++p->depth > ACU_MAP_MAX_EXPR_DEPTH) {
        fail(p, p->cur.start, "the expression nests more than %d levels deep",
             ACU_MAP_MAX_EXPR_DEPTH);
        return -1;
    }
    return 0;
}

static acu_expr *parse_path(parser *p)
{
    acu_path *path = acu_map_pool_alloc(p->pool, sizeof(*path));
    acu_expr *e = node(p, ACU_OP_PATH, p->cur.start, 0);
    char d[64];

    if (path == NULL || e == NULL) {
        fail(p, p->cur.start, "out of memory");
        return NULL;
    }
    memset(path, 0, sizeof(*path));
    e->u.path = path;
    /* Leading parent. hops */
    while (name_is(p, &p->cur, "parent")) {
        if (path->up >= ACU_MAP_MAX_SCOPES) {
            fail(p, p->cur.start, "too many 'parent.' hops");
            return NULL;
        }
        path->up++;
        next(p);
        if (p->cur.kind != T_DOT)
            return e; /* "parent" alone: the parent record */
        next(p);
        if (p->cur.kind != T_NAME) {
            fail(p, p->cur.start, "expected a field name after 'parent.', found %s",
                 tok_desc(p, &p->cur, d, sizeof(d)));
            return NULL;
        }
    }
    if (name_is(p, &p->cur, "this")) {
        path->is_this = 1;
        next(p);
    } else {
        path->seg[0].key = acu_map_pool_strndup(p->pool, p->text + p->cur.start, p->cur.len);
        path->seg[0].index = -1;
        path->nseg = 1;
        next(p);
    }
    for (;;) {
        acu_path_seg *sg;
        if (p->cur.kind != T_DOT && p->cur.kind != T_LB)
            break;
        if (path->nseg >= ACU_MAP_MAX_PATH_SEGS) {
            fail(p, p->cur.start, "a field path has at most %d parts", ACU_MAP_MAX_PATH_SEGS);
            return NULL;
        }
        sg = &path->seg[path->nseg];
        if (p->cur.kind == T_DOT) {
            next(p);
            if (p->cur.kind != T_NAME && p->cur.kind != T_AND &&
                p->cur.kind != T_OR && p->cur.kind != T_NOT) {
                fail(p, p->cur.start, "expected a field name after '.', found %s",
                     tok_desc(p, &p->cur, d, sizeof(d)));
                return NULL;
            }
            sg->key = acu_map_pool_strndup(p->pool, p->text + p->cur.start, p->cur.len);
            sg->index = -1;
            next(p);
        } else {
            size_t at = p->cur.start;
            next(p);
            if (p->cur.kind == T_NUM) {
                if (p->cur.num < 0 || p->cur.num > 1e6 || p->cur.num != (double)(int32_t)p->cur.num) {
                    fail(p, p->cur.start, "a list index is a whole number from 0 to 1000000");
                    return NULL;
                }
                sg->index = (int32_t)p->cur.num;
                sg->key = NULL;
            } else if (p->cur.kind == T_STR) {
                sg->key = p->cur.str;
                sg->index = -1;
            } else {
                fail(p, p->cur.start, "expected a number or a quoted name inside [ ], found %s",
                     tok_desc(p, &p->cur, d, sizeof(d)));
                return NULL;
            }
            next(p);
            if (p->cur.kind != T_RB) {
                fail(p, at, "the '[' here is not closed with ']'");
                return NULL;
            }
            next(p);
        }
        if (sg->key == NULL && sg->index < 0) {
            fail(p, p->cur.start, "out of memory");
            return NULL;
        }
        path->nseg++;
    }
    if (path->nseg > 0 && path->seg[0].key == NULL && path->seg[0].index < 0) {
        fail(p, e->column - 1, "out of memory");
        return NULL;
    }
    return e;
}

static acu_expr *parse_call(parser *p)
{
    size_t at = p->cur.start;
    size_t name_len = p->cur.len;
    acu_expr *args[ACU_MAP_MAX_ARGS];
    int n = 0, fn;
    acu_expr *e;
    char d[64];

    fn = acu_map_func_find(p->text + at, name_len);
    next(p); /* name */
    next(p); /* ( */
    if (p->cur.kind != T_RP) {
        for (;;) {
            if (n >= ACU_MAP_MAX_ARGS) {
                fail(p, p->cur.start, "a function takes at most %d arguments", ACU_MAP_MAX_ARGS);
                return NULL;
            }
            args[n] = parse_expr(p);
            if (args[n] == NULL)
                return NULL;
            n++;
            if (p->cur.kind == T_COMMA) {
                next(p);
                continue;
            }
            if (p->cur.kind == T_RP)
                break;
            fail(p, p->cur.start, "expected ',' or ')' in the arguments of '%.*s', found %s",
                 (int)name_len, p->text + at, tok_desc(p, &p->cur, d, sizeof(d)));
            return NULL;
        }
    }
    next(p); /* ) */
    if (fn < 0) {
        /* The binder reports unknown names with a suggestion; keep the name. */
        acu_path *path;
        e = node(p, ACU_OP_CALL, at, n);
        if (e == NULL)
            return NULL;
        e->fn = 255;
        path = acu_map_pool_alloc(p->pool, sizeof(*path));
        if (path == NULL) {
            fail(p, at, "out of memory");
            return NULL;
        }
        memset(path, 0, sizeof(*path));
        path->seg[0].key = acu_map_pool_strndup(p->pool, p->text + at, name_len);
        path->nseg = 1;
        e->aux = path; /* the unknown name, for the binder's message */
    } else {
        e = node(p, ACU_OP_CALL, at, n);
        if (e == NULL)
            return NULL;
        e->fn = (uint8_t)fn;
    }
    for (int i = 0; i < n; i++)
        e->u.args[i] = args[i];
    return e;
}

static acu_expr *parse_primary(parser *p)
{
    acu_expr *e;
    char d[64];

    switch (p->cur.kind) {
    case T_NUM:
        e = node(p, ACU_OP_CONST, p->cur.start, 0);
        if (e == NULL)
            return NULL;
        e->u.k = acu_map_v_num(p->cur.num);
        next(p);
        return e;
    case T_STR:
        e = node(p, ACU_OP_CONST, p->cur.start, 0);
        if (e == NULL)
            return NULL;
        e->u.k = acu_map_v_str(p->cur.str, p->cur.slen);
        next(p);
        return e;
    case T_LP: {
        size_t at = p->cur.start;
        next(p);
        e = parse_expr(p);
        if (e == NULL)
            return NULL;
        if (p->cur.kind != T_RP) {
            fail(p, p->cur.kind == T_EOF ? at : p->cur.start,
                 p->cur.kind == T_EOF ? "the '(' here is not closed with ')'"
                                      : "expected ')', found %s",
                 tok_desc(p, &p->cur, d, sizeof(d)));
            return NULL;
        }
        next(p);
        return e;
    }
    case T_NAME:
        if (name_is(p, &p->cur, "true") || name_is(p, &p->cur, "false")) {
            e = node(p, ACU_OP_CONST, p->cur.start, 0);
            if (e == NULL)
                return NULL;
            e->u.k = acu_map_v_bool(name_is(p, &p->cur, "true"));
            next(p);
            return e;
        }
        if (name_is(p, &p->cur, "null")) {
            e = node(p, ACU_OP_CONST, p->cur.start, 0);
            if (e == NULL)
                return NULL;
            next(p);
            return e;
        }
        {
            /* name '(' is a call */
            size_t save = p->pos;
            size_t i = save;
            while (i < p->len && isspace((unsigned char)p->text[i]))
                i++;
            if (i < p->len && p->text[i] == '(')
                return parse_call(p);
        }
        return parse_path(p);
    case T_ERR:
        return NULL;
    default:
        fail(p, p->cur.start, "expected a value, a field or a function, found %s",
             tok_desc(p, &p->cur, d, sizeof(d)));
        return NULL;
    }
}

static acu_expr *parse_unary(parser *p)
{
    acu_expr *e, *operand;
    size_t at = p->cur.start;
    acu_op op;

    if (p->cur.kind != T_MINUS && p->cur.kind != T_NOT)
        return parse_primary(p);
    op = p->cur.kind == T_MINUS ? ACU_OP_NEG : ACU_OP_NOT;
    if (enter(p) != 0)
        return NULL;
    next(p);
    operand = parse_unary(p);
    p->depth--;
    if (operand == NULL)
        return NULL;
    e = node(p, op, at, 1);
    if (e == NULL)
        return NULL;
    e->u.args[0] = operand;
    return e;
}

typedef struct level {
    tok_kind tok[4];
    acu_op op[4];
} level;

/* Binary levels from loosest to tightest. */
static const level levels[] = {
    {{T_OR}, {ACU_OP_OR}},
    {{T_AND}, {ACU_OP_AND}},
    {{T_EQ, T_NE}, {ACU_OP_EQ, ACU_OP_NE}},
    {{T_LT, T_LE, T_GT, T_GE}, {ACU_OP_LT, ACU_OP_LE, ACU_OP_GT, ACU_OP_GE}},
    {{T_PLUS, T_MINUS}, {ACU_OP_ADD, ACU_OP_SUB}},
    {{T_STAR, T_SLASH, T_PCT}, {ACU_OP_MUL, ACU_OP_DIV, ACU_OP_MOD}},
};
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

static acu_expr *parse_level(parser *p, size_t lv)
{
    acu_expr *left;

    /* The levels are a fixed, small recursion; only parse_expr and
     * parse_unary, which can nest without end, count towards the depth. */
    if (lv >= NLEVELS)
        return parse_unary(p);
    left = parse_level(p, lv + 1);
    while (left != NULL) {
        int found = -1;
        for (int i = 0; i < 4 && levels[lv].tok[i] != T_EOF; i++) {
            if (p->cur.kind == levels[lv].tok[i]) {
                found = i;
                break;
            }
        }
        if (found < 0)
            break;
        {
            size_t at = p->cur.start;
            acu_expr *right, *e;
            next(p);
            right = parse_level(p, lv + 1);
            if (right == NULL) {
                left = NULL;
                break;
            }
            e = node(p, levels[lv].op[found], at, 2);
            if (e == NULL) {
                left = NULL;
                break;
            }
            e->u.args[0] = left;
            e->u.args[1] = right;
            left = e;
        }
    }
    return left;
}

static acu_expr *parse_expr(parser *p)
{
    acu_expr *c, *a, *b, *e;
    size_t at;

    if (enter(p) != 0)
        return NULL;
    c = parse_level(p, 0);
    if (c == NULL || p->cur.kind != T_QUEST) {
        p->depth--;
        return c;
    }
    at = p->cur.start;
    next(p);
    a = parse_expr(p);
    if (a == NULL)
        return NULL;
    if (p->cur.kind != T_COLON) {
        char d[64];
        fail(p, p->cur.start, "expected ':' for the '?' at column %zu, found %s",
             at + 1, tok_desc(p, &p->cur, d, sizeof(d)));
        return NULL;
    }
    next(p);
    b = parse_expr(p);
    if (b == NULL)
        return NULL;
    p->depth--;
    e = node(p, ACU_OP_COND, at, 3);
    if (e == NULL)
        return NULL;
    e->u.args[0] = c;
    e->u.args[1] = a;
    e->u.args[2] = b;
    return e;
}

static acu_expr *parse_whole(parser *p)
{
    acu_expr *e;
    char d[64];

    next(p);
    if (p->cur.kind == T_EOF) {
        fail(p, 0, "the expression is empty");
        return NULL;
    }
    e = parse_expr(p);
    if (e == NULL)
        return NULL;
    if (p->cur.kind != T_EOF) {
        fail(p, p->cur.start, "expected an operator or the end of the expression, found %s",
             tok_desc(p, &p->cur, d, sizeof(d)));
        return NULL;
    }
    return e;
}

/* A template: literal text with {expr} parts, "{{" and "}}" for braces. */
static acu_expr *parse_template(parser *p)
{
    acu_expr *parts[ACU_MAP_MAX_ARGS * 2];
    int n = 0;
    size_t i = 0;
    acu_buf lit;
    acu_expr *e;

    acu_buf_init(&lit, ACU_MAP_MAX_EXPR_LEN + 1);
    p->in_template = 1;
    while (i <= p->len) {
        char c = i < p->len ? p->text[i] : '\0';
        int flush = (i == p->len) || (c == '{' && !(i + 1 < p->len && p->text[i + 1] == '{'));
        if (!flush) {
            if (c == '{' || c == '}') {
                if (i + 1 < p->len && p->text[i + 1] == c) {
                    acu_buf_add(&lit, &c, 1);
                    i += 2;
                    continue;
                }
                acu_buf_free(&lit);
                fail(p, i, "a single '}' in a template must be written '}}'");
                return NULL;
            }
            acu_buf_add(&lit, &c, 1);
            i++;
            continue;
        }
        if (lit.len > 0) {
            if (n >= (int)(sizeof(parts) / sizeof(parts[0]))) {
                acu_buf_free(&lit);
                fail(p, i, "a template has at most %d parts", (int)(sizeof(parts) / sizeof(parts[0])));
                return NULL;
            }
            e = node(p, ACU_OP_CONST, i - lit.len, 0);
            if (e == NULL) {
                acu_buf_free(&lit);
                return NULL;
            }
            {
                char *s = acu_map_pool_strndup(p->pool, lit.data, lit.len);
                if (s == NULL) {
                    acu_buf_free(&lit);
                    fail(p, i, "out of memory");
                    return NULL;
                }
                e->u.k = acu_map_v_str(s, lit.len);
            }
            parts[n++] = e;
            lit.len = 0;
        }
        if (i == p->len)
            break;
        /* {expr} */
        {
            size_t open = i;
            char d[64];
            p->pos = i + 1;
            p->depth = 0;
            next(p);
            if (p->cur.kind == T_RBRACE) {
                acu_buf_free(&lit);
                fail(p, open, "the {} here is empty; write {{}} for literal braces");
                return NULL;
            }
            if (p->cur.kind == T_EOF) {
                acu_buf_free(&lit);
                fail(p, open, "the '{' here is not closed with '}'");
                return NULL;
            }
            e = parse_expr(p);
            if (e == NULL) {
                acu_buf_free(&lit);
                return NULL;
            }
            if (p->cur.kind != T_RBRACE) {
                acu_buf_free(&lit);
                if (p->cur.kind == T_EOF)
                    fail(p, open, "the '{' here is not closed with '}'");
                else
                    fail(p, p->cur.start, "expected '}' to end the {...} part, found %s",
                         tok_desc(p, &p->cur, d, sizeof(d)));
                return NULL;
            }
            if (n >= (int)(sizeof(parts) / sizeof(parts[0]))) {
                acu_buf_free(&lit);
                fail(p, open, "a template has at most %d parts", (int)(sizeof(parts) / sizeof(parts[0])));
                return NULL;
            }
            parts[n++] = e;
            i = p->pos; /* just past '}' */
        }
    }
    acu_buf_free(&lit);
    if (n == 1 && parts[0]->op == ACU_OP_CONST)
        return parts[0];
    e = node(p, ACU_OP_CONCAT, 0, n);
    if (e == NULL)
        return NULL;
    for (int k = 0; k < n; k++)
        e->u.args[k] = parts[k];
    if (n == 0) {
        /* The empty template is the empty string. */
        e->op = ACU_OP_CONST;
        e->u.k = acu_map_v_str("", 0);
    }
    return e;
}

acu_expr *acu_map_expr_parse(acu_pool *pool, const char *text, size_t len,
                         int template_mode, acu_expr_error *err)
{
    parser p;
    acu_expr *e;

    memset(&p, 0, sizeof(p));
    memset(err, 0, sizeof(*err));
    p.pool = pool;
    p.text = text;
    p.len = len;
    p.err = err;
    if (len > ACU_MAP_MAX_EXPR_LEN) {
        err->column = 1;
        snprintf(err->message, sizeof(err->message),
                 "the text is %zu bytes long; the limit is %d", len, ACU_MAP_MAX_EXPR_LEN);
        return NULL;
    }
    if (memchr(text, '\0', len) != NULL) {
        err->column = (int)((const char *)memchr(text, '\0', len) - text) + 1;
        snprintf(err->message, sizeof(err->message), "the text contains a NUL character");
        return NULL;
    }
    e = template_mode ? parse_template(&p) : parse_whole(&p);
    if (p.failed)
        return NULL;
    if (e == NULL) {
        err->column = 1;
        snprintf(err->message, sizeof(err->message), "out of memory");
    }
    return e;
}
