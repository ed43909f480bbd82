/*
 * HMP, the human monitor: QEMU's readline editor (echo and redraw bytes
 * as QEMU 7.2 sends them: ESC[D x cursor, line, ESC[K), history, the
 * banner and "(qemu) " prompt, mux focus handling, command-line parsing
 * from the table's argument specs, help/info listings and error texts.
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/monitor-internal.h"
#include "system/cpus.h"
#include "util/cutils.h"
#if __has_include("kemu-config.h")
#include "kemu-config.h"
#endif
#ifndef QEMU_VERSION
#define QEMU_VERSION "7.2.0"
#endif

#define PROMPT "(qemu) "

/* ------------------------------------------------------------ readline */

static void rl_show_prompt(Monitor *mon)
{
    monitor_puts(mon, PROMPT);
    mon->rl.last_len = mon->rl.last_pos = 0;
    mon->rl.esc_state = 0;
}

static void rl_restart(Monitor *mon)
{
    mon->rl.len = mon->rl.pos = 0;
    mon->rl.hist_entry = -1;
}

static void rl_update(Monitor *mon)
{
    ReadLine *rl = &mon->rl;
    GString *o = g_string_new(NULL);

    if (rl->len != rl->last_len || memcmp(rl->buf, rl->last, rl->len)) {
        for (int i = 0; i < rl->last_pos; i++) {
            g_string_append(o, "\033[D");
        }
        g_string_append_len(o, rl->buf, rl->len);
        g_string_append(o, "\033[K");
        memcpy(rl->last, rl->buf, rl->len);
        rl->last_len = rl->len;
        rl->last_pos = rl->len;
    }
    if (rl->pos != rl->last_pos) {
        int d = rl->pos - rl->last_pos;
        for (int i = 0; i < abs(d); i++) {
            g_string_append(o, d > 0 ? "\033[C" : "\033[D");
        }
        rl->last_pos = rl->pos;
    }
    if (o->len) {
        mon_write_raw(mon, o->str, o->len);
    }
    g_string_free(o, TRUE);
}

static void rl_set_line(ReadLine *rl, const char *s)
{
    rl->len = rl->pos = (int)MIN(strlen(s), sizeof(rl->buf) - 1);
    memcpy(rl->buf, s, rl->len);
}

static void rl_hist_add(ReadLine *rl, const char *line)
{
    if (!line[0]) {
        return;
    }
    for (int i = 0; i < rl->hist_n; i++) {
        if (!strcmp(rl->history[i], line)) {
            char *e = rl->history[i];
            memmove(&rl->history[i], &rl->history[i + 1], (rl->hist_n - i - 1) * sizeof(char *));
            rl->history[rl->hist_n - 1] = e;
            return;
        }
    }
    if (rl->hist_n == HMP_HISTORY_MAX) {
        g_free(rl->history[0]);
        memmove(&rl->history[0], &rl->history[1], (HMP_HISTORY_MAX - 1) * sizeof(char *));
        rl->hist_n--;
    }
    rl->history[rl->hist_n++] = g_strdup(line);
}

static void rl_hist_move(ReadLine *rl, int dir)
{
    if (!rl->hist_n) {
        return;
    }
    if (dir < 0) {
        if (rl->hist_entry == -1) {
            rl->hist_entry = rl->hist_n - 1;
        } else if (rl->hist_entry > 0) {
            rl->hist_entry--;
        }
        rl_set_line(rl, rl->history[rl->hist_entry]);
    } else if (rl->hist_entry >= 0) {
        if (rl->hist_entry < rl->hist_n - 1) {
            rl_set_line(rl, rl->history[++rl->hist_entry]);
        } else {
            rl->hist_entry = -1;
            rl_set_line(rl, "");
        }
    }
}

static void rl_insert(ReadLine *rl, char c)
{
    if (rl->len >= (int)sizeof(rl->buf) - 1) {
        return;
    }
    memmove(rl->buf + rl->pos + 1, rl->buf + rl->pos, rl->len - rl->pos);
    rl->buf[rl->pos++] = c;
    rl->len++;
}

static void rl_delete(ReadLine *rl)
{
    if (rl->pos < rl->len) {
        memmove(rl->buf + rl->pos, rl->buf + rl->pos + 1, rl->len - rl->pos - 1);
        rl->len--;
    }
}

enum { ES_NORM, ES_ESC, ES_CSI, ES_SS3 };

static void rl_enter(Monitor *mon)
{
    ReadLine *rl = &mon->rl;
    char line[HMP_LINE_MAX];

    memcpy(line, rl->buf, rl->len);
    line[rl->len] = 0;
    rl_hist_add(rl, line);
    monitor_puts(mon, "\n");
    rl->len = rl->pos = rl->last_len = rl->last_pos = 0;
    rl->hist_entry = -1;
    hmp_handle_line(mon, line);
}

static void rl_handle_byte(Monitor *mon, uint8_t ch)
{
    ReadLine *rl = &mon->rl;

    switch (rl->esc_state) {
    case ES_ESC:
        rl->esc_state = ch == '[' ? ES_CSI : ch == 'O' ? ES_SS3 : ES_NORM;
        rl->esc_param = 0;
        return;
    case ES_CSI:
        if (ch >= '0' && ch <= '9') {
            rl->esc_param = rl->esc_param * 10 + ch - '0';
            return;
        }
        rl->esc_state = ES_NORM;
        switch (ch) {
        case 'A': rl_hist_move(rl, -1); break;
        case 'B': rl_hist_move(rl, 1); break;
        case 'C': if (rl->pos < rl->len) { rl->pos++; } break;
        case 'D': if (rl->pos > 0) { rl->pos--; } break;
        case 'F': rl->pos = rl->len; break;
        case 'H': rl->pos = 0; break;
        case '~':
            if (rl->esc_param == 1 || rl->esc_param == 7) {
                rl->pos = 0;
            } else if (rl->esc_param == 3) {
                rl_delete(rl);
            } else if (rl->esc_param == 4 || rl->esc_param == 8) {
                rl->pos = rl->len;
            }
            break;
        default: break;
        }
        rl_update(mon);
        return;
    case ES_SS3:
        rl->esc_state = ES_NORM;
        if (ch == 'F') {
            rl->pos = rl->len;
        } else if (ch == 'H') {
            rl->pos = 0;
        }
        rl_update(mon);
        return;
    default:
        break;
    }
    switch (ch) {
    case 1: rl->pos = 0; break;                       /* C-a */
    case 4: rl_delete(rl); break;                     /* C-d */
    case 5: rl->pos = rl->len; break;                 /* C-e */
    case 9: break;                                    /* no completion */
    case 10:
    case 13:
        rl_enter(mon);
        return;
    case 14: rl_hist_move(rl, 1); break;              /* C-n */
    case 16: rl_hist_move(rl, -1); break;             /* C-p */
    case 23:                                          /* C-w */
        while (rl->pos > 0 && rl->buf[rl->pos - 1] == ' ') {
            rl->pos--;
            rl_delete(rl);
        }
        while (rl->pos > 0 && rl->buf[rl->pos - 1] != ' ') {
            rl->pos--;
            rl_delete(rl);
        }
        break;
    case 27: rl->esc_state = ES_ESC; return;
    case 155: rl->esc_state = ES_CSI; rl->esc_param = 0; return;
    case 8:
    case 127:
        if (rl->pos > 0) {
            rl->pos--;
            rl_delete(rl);
        }
        break;
    default:
        if (ch >= 32) {
            rl_insert(rl, (char)ch);
        }
        break;
    }
    rl_update(mon);
}

/* ----------------------------------------------------------- lookups */

static bool name_matches(const char *names, const char *word)
{
    /* names "stop|s" */
    size_t wl = strlen(word);
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == wl && !strncmp(p, word, l)) {
            return true;
        }
        p += l + (bar ? 1 : 0);
    }
    return false;
}

typedef struct FindCtx {
    const char *word;
    bool info;
    const MonCmd *found;
} FindCtx;

static void find_one(const MonCmd *c, void *opaque)
{
    FindCtx *f = opaque;
    const char *rest;
    if (!c->hmp || f->found) {
        return;
    }
    bool is_info = g_str_has_prefix(c->hmp, "info ");
    if (is_info != f->info) {
        return;
    }
    rest = is_info ? c->hmp + 5 : c->hmp;
    if (name_matches(rest, f->word)) {
        f->found = c;
    }
}

const MonCmd *hmp_find(const char *name, bool info)
{
    FindCtx f = { name, info, NULL };
    mon_cmds_foreach(find_one, &f);
    return f.found;
}

static int cmd_cmp(const void *a, const void *b)
{
    const MonCmd *x = *(const MonCmd *const *)a, *y = *(const MonCmd *const *)b;
    return strcmp(x->hmp, y->hmp);
}

typedef struct ListCtx {
    GPtrArray *cmds;
    bool info;
} ListCtx;

static void list_one(const MonCmd *c, void *opaque)
{
    ListCtx *l = opaque;
    if (c->hmp && g_str_has_prefix(c->hmp, "info ") == l->info) {
        g_ptr_array_add(l->cmds, (gpointer)c);
    }
}

static void print_cmd_help(Monitor *mon, const MonCmd *c)
{
    monitor_printf(mon, "%s %s -- %s\n", c->hmp, c->params ? c->params : "", c->help ? c->help : "");
}

void hmp_print_help(Monitor *mon, const char *name)
{
    ListCtx l = { g_ptr_array_new(), false };

    if (name && !strcmp(name, "info")) {
        l.info = true;
    } else if (name) {
        const char *sub = NULL;
        const MonCmd *c = strstart(name, "info ", &sub) ? hmp_find(sub, true)
                                                        : hmp_find(name, false);
        if (!c) {
            monitor_printf(mon, "unknown command: '%s'\n", name);
        } else {
            print_cmd_help(mon, c);
        }
        g_ptr_array_free(l.cmds, TRUE);
        return;
    }
    mon_cmds_foreach(list_one, &l);
    qsort(l.cmds->pdata, l.cmds->len, sizeof(gpointer), cmd_cmp);
    for (unsigned i = 0; i < l.cmds->len; i++) {
        print_cmd_help(mon, l.cmds->pdata[i]);
    }
    g_ptr_array_free(l.cmds, TRUE);
}

/* -------------------------------------------------------- expressions */

typedef struct Expr {
    Monitor *mon;
    const char *p;
    const char *err;
    char errbuf[64];
} Expr;

static void skip_ws(Expr *e)
{
    while (*e->p == ' ' || *e->p == '\t') {
        e->p++;
    }
}

static int64_t expr_sum(Expr *e);

static bool get_register(Monitor *mon, const char *name, int64_t *val)
{
    CPUState *cpu = monitor_cur_cpu(mon);
    static const char *const gpr[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    static const char *const gpr64[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" };

    if (!cpu) {
        return false;
    }
    if (monitor_get_register_hook) {
        return monitor_get_register_hook(cpu, name, val);
    }
    cpu_synchronize_state(cpu);
    if (!strcmp(name, "pc")) {
        /* QEMU: the linear address of the next instruction */
        *val = (int64_t)(cpu->env.rip + cpu->env.segs[R_CS].base);
        return true;
    }
    if (!strcmp(name, "rip") || !strcmp(name, "eip")) {
        *val = (int64_t)cpu->env.rip;
        return true;
    }
    if (!strcmp(name, "sp")) {
        *val = (int64_t)cpu->env.regs[R_ESP];
        return true;
    }
    for (int i = 0; i < 8; i++) {
        if (!strcmp(name, gpr64[i])) {
            *val = (int64_t)cpu->env.regs[i];
            return true;
        }
        if (!strcmp(name, gpr[i])) {
            *val = (int32_t)cpu->env.regs[i];
            return true;
        }
    }
    return false;
}

static int64_t expr_unary(Expr *e)
{
    int64_t n = 0;
    skip_ws(e);
    if (e->err) {
        return 0;
    }
    switch (*e->p) {
    case '+': e->p++; return expr_unary(e);
    case '-': e->p++; return (int64_t)(0 - (uint64_t)expr_unary(e));
    case '~': e->p++; return ~expr_unary(e);
    case '(':
        e->p++;
        n = expr_sum(e);
        skip_ws(e);
        if (!e->err && *e->p != ')') {
            e->err = "')' expected";
        }
        e->p++;
        return n;
    case '\'':
        e->p++;
        if (!*e->p) {
            e->err = "character constant expected";
            return 0;
        }
        n = (unsigned char)*e->p++;
        if (*e->p != '\'') {
            e->err = "missing terminating ' character";
            return 0;
        }
        e->p++;
        return n;
    case '$': {
        char name[32];
        int l = 0;
        e->p++;
        while ((g_ascii_isalnum(*e->p) || *e->p == '_' || *e->p == '.') && l < 31) {
            name[l++] = *e->p++;
        }
        name[l] = 0;
        if (!get_register(e->mon, name, &n)) {
            e->err = "unknown register";
        }
        return n;
    }
    case '\0':
        e->err = "unexpected end of expression";
        return 0;
    default: {
        char *end;
        errno = 0;
        n = (int64_t)strtoull(e->p, &end, 0);
        if (errno == ERANGE) {
            e->err = "number too large";
        } else if (end == e->p) {
            g_snprintf(e->errbuf, sizeof(e->errbuf), "invalid char '%c' in expression", *e->p);
            e->err = e->errbuf;
        }
        e->p = end;
        return n;
    }
    }
}

static int64_t expr_logic(Expr *e)
{
    int64_t v = expr_unary(e);
    for (;;) {
        skip_ws(e);
        char op = *e->p;
        if (e->err || (op != '&' && op != '|' && op != '^')) {
            return v;
        }
        e->p++;
        int64_t w = expr_unary(e);
        v = op == '&' ? v & w : op == '|' ? v | w : v ^ w;
    }
}

static int64_t expr_prod(Expr *e)
{
    int64_t v = expr_logic(e);
    for (;;) {
        skip_ws(e);
        char op = *e->p;
        if (e->err || (op != '*' && op != '/' && op != '%')) {
            return v;
        }
        e->p++;
        int64_t w = expr_logic(e);
        /* wrap-around arithmetic, as QEMU's (-fwrapv) evaluator */
        if (op == '*') {
            v = (int64_t)((uint64_t)v * (uint64_t)w);
        } else if (w == 0) {
            e->err = "division by zero";
            return 0;
        } else if (w == -1) {
            v = op == '/' ? (int64_t)(0 - (uint64_t)v) : 0;
        } else {
            v = op == '/' ? v / w : v % w;
        }
    }
}

static int64_t expr_sum(Expr *e)
{
    int64_t v = expr_prod(e);
    for (;;) {
        skip_ws(e);
        char op = *e->p;
        if (e->err || (op != '+' && op != '-')) {
            return v;
        }
        e->p++;
        int64_t w = expr_prod(e);
        v = (int64_t)(op == '+' ? (uint64_t)v + (uint64_t)w : (uint64_t)v - (uint64_t)w);
    }
}

bool hmp_parse_expr(Monitor *mon, const char **p, int64_t *out)
{
    Expr e = { .mon = mon, .p = *p };
    *out = expr_sum(&e);
    if (e.err) {
        monitor_printf(mon, "%s\n", e.err);
        return false;
    }
    *p = e.p;
    return true;
}

/* --------------------------------------------------------- arguments */

static char fmt_format = 'x';
static int fmt_size = 4;

/* One word, or a "quoted string" with C escapes. */
static bool get_word(const char **pp, GString *out)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (!*p) {
        return false;
    }
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) {
                p++;
                g_string_append_c(out, *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p);
            } else {
                g_string_append_c(out, *p);
            }
            p++;
        }
        if (*p != '"') {
            return false;
        }
        p++;
    } else {
        while (*p && *p != ' ' && *p != '\t') {
            g_string_append_c(out, *p++);
        }
    }
    *pp = p;
    return true;
}

static bool parse_format(Monitor *mon, const char **pp, JsonObject *args)
{
    const char *p = *pp;
    int count = 1, size = -1, format = -1;

    while (*p == ' ') {
        p++;
    }
    if (*p == '/') {
        p++;
        if (g_ascii_isdigit(*p)) {
            count = 0;
            while (g_ascii_isdigit(*p)) {
                count = count * 10 + (*p++ - '0');
            }
        }
        for (;; p++) {
            if (strchr("odcuxi", *p) && *p) {
                format = *p;
            } else if (*p == 'b') {
                size = 1;
            } else if (*p == 'h') {
                size = 2;
            } else if (*p == 'w') {
                size = 4;
            } else if (*p == 'g' || *p == 'L') {
                size = 8;
            } else {
                break;
            }
        }
        if (*p && *p != ' ' && *p != '\t') {
            monitor_printf(mon, "invalid char in format: '%c'\n", *p);
            return false;
        }
        if (format < 0) {
            format = fmt_format;
        }
        if (format != 'i') {
            if (size < 0) {
                size = fmt_size;
            }
            fmt_size = size;
        }
        fmt_format = format;
    } else {
        format = fmt_format;
        size = format != 'i' ? fmt_size : -1;
    }
    json_object_set_int(args, "count", count);
    json_object_set_int(args, "format", format);
    json_object_set_int(args, "size", size);
    *pp = p;
    return true;
}

/* Parse the rest of the line with spec "name:T[?],..."; NULL after printing. */
static JsonObject *parse_args(Monitor *mon, const MonCmd *cmd, const char *p)
{
    JsonObject *args = json_object_new();
    const char *spec = cmd->hmp_args ? cmd->hmp_args : "";

    while (*spec) {
        const char *colon = strchr(spec, ':');
        g_autofree char *name = g_strndup(spec, colon - spec);
        const char *t = colon + 1;
        const char *comma = strchr(t, ',');
        g_autofree char *type = comma ? g_strndup(t, comma - t) : g_strdup(t);
        bool opt = type[strlen(type) - 1] == '?';
        spec = comma ? comma + 1 : t + strlen(t);
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (type[0] == '-') {
            /* flag: "-f" */
            if (p[0] == '-' && p[1] == type[1] && (!p[2] || p[2] == ' ')) {
                json_object_set_bool(args, name, true);
                p += 2;
            }
            continue;
        }
        if (opt && !*p) {
            continue;
        }
        switch (type[0]) {
        case 's': {
            g_autoptr(GString) w = g_string_new(NULL);
            if (!get_word(&p, w)) {
                monitor_printf(mon, "%s: string expected\n", cmd->hmp);
                goto fail;
            }
            json_object_set_str(args, name, w->str);
            break;
        }
        case 'S':
            if (!*p) {
                monitor_printf(mon, "%s: string expected\n", cmd->hmp);
                goto fail;
            }
            json_object_set_str(args, name, p);
            p += strlen(p);
            break;
        case 'b': {
            g_autoptr(GString) w = g_string_new(NULL);
            get_word(&p, w);
            if (!strcmp(w->str, "on")) {
                json_object_set_bool(args, name, true);
            } else if (!strcmp(w->str, "off")) {
                json_object_set_bool(args, name, false);
            } else {
                monitor_printf(mon, "Expected 'on' or 'off'\n");
                goto fail;
            }
            break;
        }
        case 'o': {                        /* a size; a bare number is MiB */
            while (*p == ' ' || *p == '\t') {
                p++;
            }
            const char *start = p;
            while (g_ascii_isdigit(*p) || *p == '.') {
                p++;
            }
            if (*p && strchr("bBkKmMgGtTpPeE", *p)) {
                p++;
            }
            g_autofree char *w = g_strndup(start, p - start);
            uint64_t v;
            if (p == start || parse_size_suffix(w, 1024 * 1024, &v) < 0 || v > INT64_MAX) {
                monitor_printf(mon, "invalid size\n");
                goto fail;
            }
            json_object_set_int(args, name, (int64_t)v);
            break;
        }
        case '/':
            if (!parse_format(mon, &p, args)) {
                goto fail;
            }
            break;
        case 'l':
        case 'i':
        case 'M': {
            int64_t v;
            if (!hmp_parse_expr(mon, &p, &v)) {
                goto fail;
            }
            if (type[0] == 'M') {
                if (v < 0) {
                    monitor_printf(mon, "enter a positive value\n");
                    goto fail;
                }
                v *= 1024 * 1024;          /* 'M': a size in MiB */
            }
            json_object_set_int(args, name, v);
            break;
        }
        default:
            break;
        }
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p) {
        monitor_printf(mon, "%s: extraneous characters at the end of line\n", cmd->hmp);
        goto fail;
    }
    return args;
fail:
    json_free(args);
    return NULL;
}

/* ---------------------------------------------------------- dispatch */

static void hmp_error_sink(void *opaque, const char *text)
{
    monitor_puts(opaque, text);
}

static void hmp_run(Monitor *mon, const MonCmd *cmd, const char *typed, const char *rest)
{
    JsonObject *args = parse_args(mon, cmd, rest);
    if (!args) {
        monitor_printf(mon, "Try \"help %s\" for more information\n", typed);
        return;
    }
    error_set_sink(hmp_error_sink, mon);
    if (cmd->hmp_only) {
        cmd->hmp_only(mon, args);
    } else if (cmd->qmp) {
        Error *err = NULL;
        JsonValue *ret = cmd->qmp(mon, args, &err);
        if (err) {
            monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
            error_free(err);
        } else if (cmd->hmp_print) {
            cmd->hmp_print(mon, ret);
        }
        json_free(ret);
    }
    error_set_sink(NULL, NULL);
    json_free(args);
}

void hmp_handle_line(Monitor *mon, const char *line)
{
    const char *p = line;
    g_autoptr(GString) word = g_string_new(NULL);

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (!*p) {
        goto prompt;
    }
    while (*p && *p != ' ' && *p != '\t') {
        g_string_append_c(word, *p++);
    }
    if (!strcmp(word->str, "info")) {
        g_autoptr(GString) sub = g_string_new(NULL);
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        while (*p && *p != ' ' && *p != '\t') {
            g_string_append_c(sub, *p++);
        }
        if (!sub->len) {
            hmp_print_help(mon, "info");
            goto prompt;
        }
        const MonCmd *c = hmp_find(sub->str, true);
        if (!c) {
            monitor_printf(mon, "unknown command: 'info %s'\n", sub->str);
            goto prompt;
        }
        g_autofree char *typed = g_strdup_printf("info %s", sub->str);
        hmp_run(mon, c, typed, p);
        goto prompt;
    }
    const MonCmd *c = hmp_find(word->str, false);
    if (!c) {
        monitor_printf(mon, "unknown command: '%s'\n", word->str);
        goto prompt;
    }
    hmp_run(mon, c, word->str, p);
prompt:
    if (!mon->capture && mon->reset_seen && !mon->mux_out && !mon->waiting) {
        rl_show_prompt(mon);
    }
}

char *hmp_run_capture(const char *line, int cpu_index)
{
    Monitor tmp = { 0 };
    tmp.capture = g_string_new(NULL);
    tmp.mux_held = g_string_new(NULL);
    tmp.cpu_index = cpu_index;
    hmp_handle_line(&tmp, line);
    g_string_free(tmp.mux_held, TRUE);
    return g_string_free(tmp.capture, FALSE);
}

/* ------------------------------------------------------ chardev side */

static int hmp_can_read(void *opaque)
{
    Monitor *mon = opaque;
    return mon->waiting ? 0 : 1;
}

static void hmp_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    for (int i = 0; i < len && !mon->waiting; i++) {
        rl_handle_byte(mon, buf[i]);
    }
}

static void hmp_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    switch (event) {
    case CHR_EVENT_OPENED:
        monitor_printf(mon, "QEMU %s monitor - type 'help' for more information\n", QEMU_VERSION);
        if (!mon->mux_out) {
            rl_restart(mon);
            rl_show_prompt(mon);
        }
        mon->reset_seen = true;
        break;
    case CHR_EVENT_CLOSED:
        rl_restart(mon);
        break;
    case CHR_EVENT_MUX_IN:
        mon->mux_out = false;
        if (mon->reset_seen) {
            mon_flush(mon);
            rl_restart(mon);
            rl_show_prompt(mon);
        }
        break;
    case CHR_EVENT_MUX_OUT:
        if (mon->reset_seen) {
            monitor_puts(mon, "\n");
        }
        mon->mux_out = true;
        break;
    default:
        break;
    }
}

void hmp_mon_init(Monitor *mon)
{
    mon->cpu_index = 0;
    rl_restart(mon);
    chr_fe_set_handlers(&mon->fe, hmp_can_read, hmp_read, hmp_event, mon);
}
