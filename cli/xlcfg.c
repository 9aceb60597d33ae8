/* xlcfg.c: the xl.cfg syntax of Xen's libxlu (libxlu_cfg_l.l / libxlu_cfg_y.y): lexer, parser,
 * settings store. The typed domain config built from it is in xlcfg_config.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/xlcfg.h"

enum tok {
    T_EOF,
    T_IDENT,
    T_NUMBER,
    T_STRING,
    T_NEWLINE,
    T_EQ,
    T_PLUSEQ,
    T_COMMA,
    T_LBRACK,
    T_RBRACK,
    T_SEMI,
    T_ERROR,
};

struct lexer {
    const char *p, *end;
    const char *file;
    int line;
    /* the current token */
    enum tok t;
    int t_line;
    const char *t_start; /* its text in the input (for "near `...'") */
    size_t t_len;
    char *val;       /* malloc'd value of IDENT/NUMBER/STRING */
    const char *why; /* for T_ERROR */
    FILE *errf;
};

static void parse_error(struct lexer *lx, const char *why)
{
    size_t n = lx->t_len;
    const char *near = lx->t_start;
    if (lx->t == T_EOF)
        near = "end of file", n = strlen(near);
    else if (lx->t == T_NEWLINE)
        near = "end of line", n = strlen(near);
    if (n > 40)
        n = 40;
    fprintf(lx->errf, "%s:%d: config parsing error near `%.*s': %s\n", lx->file, lx->t_line, (int)n,
            near, why);
}

static bool is_ident0(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_ident(char c)
{
    return is_ident0(c) || c == '_' || (c >= '0' && c <= '9');
}

static bool is_numch(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One escape after a backslash at *pp (xlu__cfgl_dequote()); -1 if invalid. */
static int dequote_escape(const char **pp, const char *end)
{
    const char *p = *pp;
    static const char from[] = "\"'\\abfnrtv", to[] = "\"'\\\a\b\f\n\r\t\v";
    const char *k = strchr(from, *p);
    int v = 0, n = 0;
    if (*p && k) {
        *pp = p + 1;
        return to[k - from];
    }
    if (*p == 'x') {
        for (p++; n < 2 && p < end && hexval(*p) >= 0; n++, p++)
            v = v * 16 + hexval(*p);
    } else {
        for (; n < 3 && p < end && *p >= '0' && *p <= '7'; n++, p++)
            v = v * 8 + (*p - '0');
    }
    if (n == 0 || v == 0 || v > 255)
        return -1;
    *pp = p;
    return v;
}

/* A quoted string: the token's text is [t_start, p) including the quotes. */
static enum tok lex_string(struct lexer *lx)
{
    char q = *lx->p;
    const char *s = lx->p + 1;
    const char *e = s;
    while (e < lx->end && *e != q && *e != '\n')
        e += (*e == '\\' && e + 1 < lx->end && e[1] != '\n') ? 2 : 1;
    lx->p = e < lx->end && *e == q ? e + 1 : e;
    if (e >= lx->end || *e != q) {
        lx->why = "unterminated string";
        return T_ERROR;
    }
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    if (!out) {
        lx->why = "out of memory";
        return T_ERROR;
    }
    while (s < e) {
        int c = (unsigned char)*s++;
        if (c == '\\' && (c = dequote_escape(&s, e)) < 0) {
            free(out);
            lx->why = "invalid character escape in config string";
            return T_ERROR;
        }
        *o++ = (char)c;
    }
    *o = 0;
    lx->val = out;
    return T_STRING;
}

static enum tok lex_word(struct lexer *lx, bool (*ok)(char), enum tok t)
{
    const char *s = lx->p;
    while (lx->p < lx->end && ok(*lx->p))
        lx->p++;
    lx->val = strndup(s, (size_t)(lx->p - s));
    if (!lx->val) {
        lx->why = "out of memory";
        return T_ERROR;
    }
    return t;
}

static enum tok lex_punct(struct lexer *lx)
{
    char c = *lx->p++;
    switch (c) {
    case '=':
        return T_EQ;
    case ',':
        return T_COMMA;
    case '[':
        return T_LBRACK;
    case ']':
        return T_RBRACK;
    case ';':
        return T_SEMI;
    case '+':
        if (lx->p < lx->end && *lx->p == '=') {
            lx->p++;
            return T_PLUSEQ;
        }
        break;
    }
    /* Like libxlu's lexerr state: the rest of the word is the offending text. */
    while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n')
        lx->p++;
    lx->why = "lexical error";
    return T_ERROR;
}

static void next(struct lexer *lx)
{
    free(lx->val);
    lx->val = NULL;
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
        lx->p++;
    lx->t_start = lx->p;
    lx->t_line = lx->line;
    if (lx->p >= lx->end) {
        lx->t = T_EOF;
    } else if (*lx->p == '#' || *lx->p == '\n') {
        while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
        if (lx->p < lx->end)
            lx->p++, lx->line++;
        lx->t = T_NEWLINE;
    } else if (*lx->p == '"' || *lx->p == '\'') {
        lx->t = lex_string(lx);
    } else if (is_ident0(*lx->p)) {
        lx->t = lex_word(lx, is_ident, T_IDENT);
    } else if (*lx->p >= '0' && *lx->p <= '9') {
        lx->t = lex_word(lx, is_numch, T_NUMBER);
    } else {
        lx->t = lex_punct(lx);
    }
    lx->t_len = (size_t)(lx->p - lx->t_start);
}

/* ---- the settings store ---- */

static void setting_clear(struct xlcfg_setting *s)
{
    free(s->name);
    free(s->atom);
    for (unsigned i = 0; i < s->nr_items; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

struct xlcfg_setting *xlcfg_find(struct xlcfg *cfg, const char *key)
{
    for (unsigned i = cfg->nr; i-- > 0;)
        if (!strcmp(cfg->set[i].name, key))
            return &cfg->set[i];
    return NULL;
}

static int list_append(struct xlcfg_setting *s, char *item)
{
    char **n = realloc(s->items, (s->nr_items + 1) * sizeof(*n));
    if (!n)
        return -1;
    s->items = n;
    s->items[s->nr_items++] = item;
    return 0;
}

/* `key += value`: concatenate strings, append lists; -1 with why if the kinds differ. */
static int setting_add(struct xlcfg_setting *old, struct xlcfg_setting *nw, const char **why)
{
    if (old->is_list != nw->is_list) {
        *why = "cannot add a list to a single value, or a single value to a list";
        return -1;
    }
    if (!old->is_list) {
        size_t a = strlen(old->atom), b = strlen(nw->atom);
        char *s = realloc(old->atom, a + b + 1);
        if (!s)
            return *why = "out of memory", -1;
        memcpy(s + a, nw->atom, b + 1);
        old->atom = s;
    } else {
        for (unsigned i = 0; i < nw->nr_items; i++) {
            if (list_append(old, nw->items[i]))
                return *why = "out of memory", -1;
            nw->items[i] = NULL;
        }
    }
    old->line = nw->line;
    old->file = nw->file;
    setting_clear(nw);
    return 0;
}

/* Store a new setting; a later setting of the same key wins (xl), or extends it for +=. */
static int store(struct xlcfg *cfg, struct xlcfg_setting *nw, bool add, const char **why)
{
    struct xlcfg_setting *old = xlcfg_find(cfg, nw->name);
    if (add && old)
        return setting_add(old, nw, why);
    if (cfg->nr == cfg->cap) {
        unsigned cap = cfg->cap ? cfg->cap * 2 : 16;
        struct xlcfg_setting *n = realloc(cfg->set, cap * sizeof(*n));
        if (!n)
            return *why = "out of memory", -1;
        cfg->set = n, cfg->cap = cap;
    }
    cfg->set[cfg->nr++] = *nw;
    memset(nw, 0, sizeof(*nw));
    return 0;
}

/* ---- the parser ---- */

static void skip_newlines(struct lexer *lx)
{
    while (lx->t == T_NEWLINE)
        next(lx);
}

/* '[' nlok valuelist ']' with atoms only; an optional trailing comma, newlines anywhere. */
static int parse_list(struct lexer *lx, struct xlcfg_setting *s)
{
    s->is_list = true;
    next(lx);
    skip_newlines(lx);
    while (lx->t != T_RBRACK) {
        if (lx->t == T_LBRACK) {
            parse_error(lx, "nested lists are not supported");
            return -1;
        }
        if (lx->t != T_STRING && lx->t != T_NUMBER) {
            parse_error(lx, lx->t == T_ERROR ? lx->why : "syntax error: expected a value");
            return -1;
        }
        if (list_append(s, lx->val)) {
            parse_error(lx, "out of memory");
            return -1;
        }
        lx->val = NULL;
        next(lx);
        skip_newlines(lx);
        if (lx->t == T_COMMA) {
            next(lx);
            skip_newlines(lx);
        } else if (lx->t != T_RBRACK) {
            parse_error(lx, lx->t == T_ERROR ? lx->why : "syntax error: expected `,' or `]'");
            return -1;
        }
    }
    next(lx);
    return 0;
}

/* IDENT ('=' | '+=') value, then ';' or a newline (or the end of the file). */
static int parse_assignment(struct xlcfg *cfg, struct lexer *lx)
{
    struct xlcfg_setting s = {.name = lx->val, .file = lx->file, .line = lx->t_line};
    const char *why = NULL;
    bool add;
    lx->val = NULL;
    next(lx);
    if (lx->t != T_EQ && lx->t != T_PLUSEQ)
        goto syntax;
    add = lx->t == T_PLUSEQ;
    next(lx);
    s.line = lx->t_line;
    if (lx->t == T_STRING || lx->t == T_NUMBER) {
        s.atom = lx->val;
        lx->val = NULL;
        next(lx);
    } else if (lx->t == T_LBRACK) {
        if (parse_list(lx, &s))
            goto fail;
    } else {
        goto syntax;
    }
    if (lx->t != T_SEMI && lx->t != T_NEWLINE && lx->t != T_EOF)
        goto syntax;
    if (store(cfg, &s, add, &why) == 0)
        return 0;
    parse_error(lx, why);
    goto fail;
syntax:
    parse_error(lx, lx->t == T_ERROR ? lx->why : "syntax error");
fail:
    setting_clear(&s);
    return -1;
}

static const char *remember_file(struct xlcfg *cfg, const char *file)
{
    for (unsigned i = 0; i < cfg->nr_files; i++)
        if (!strcmp(cfg->files[i], file))
            return cfg->files[i];
    char **n = realloc(cfg->files, (cfg->nr_files + 1) * sizeof(*n));
    if (!n)
        return NULL;
    cfg->files = n;
    if (!(n[cfg->nr_files] = strdup(file)))
        return NULL;
    return n[cfg->nr_files++];
}

int xlcfg_parse(struct xlcfg *cfg, const char *file, const char *text, size_t len, FILE *errf)
{
    struct lexer lx = {.p = text, .end = text + len, .line = 1, .errf = errf};
    int rc = 0;
    if (memchr(text, 0, len)) {
        fprintf(errf, "%s: config file contains a NUL byte\n", file);
        return -1;
    }
    if (!(lx.file = remember_file(cfg, file))) {
        fprintf(errf, "%s: out of memory\n", file);
        return -1;
    }
    for (next(&lx); lx.t != T_EOF && rc == 0;) {
        if (lx.t == T_NEWLINE || lx.t == T_SEMI) {
            next(&lx);
        } else if (lx.t == T_IDENT) {
            rc = parse_assignment(cfg, &lx);
        } else {
            parse_error(&lx, lx.t == T_ERROR ? lx.why : "syntax error: expected `key = value'");
            rc = -1;
        }
    }
    free(lx.val);
    return rc;
}

int xlcfg_parse_file(struct xlcfg *cfg, const char *path, FILE *errf)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    int rc;
    if (!f) {
        fprintf(errf, "%s: cannot open config file: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (len + 4096 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                fprintf(errf, "%s: out of memory\n", path);
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
    } while (n > 0 && len < (1u << 20));
    if (ferror(f) || len >= (1u << 20)) {
        fprintf(errf, "%s: cannot read config file: %s\n", path,
                ferror(f) ? strerror(errno ? errno : EIO) : "larger than 1 MiB");
        rc = -1;
    } else {
        rc = xlcfg_parse(cfg, path, buf, len, errf);
    }
    free(buf);
    fclose(f);
    return rc;
}

void xlcfg_free(struct xlcfg *cfg)
{
    for (unsigned i = 0; i < cfg->nr; i++)
        setting_clear(&cfg->set[i]);
    free(cfg->set);
    for (unsigned i = 0; i < cfg->nr_files; i++)
        free(cfg->files[i]);
    free(cfg->files);
    memset(cfg, 0, sizeof(*cfg));
}
