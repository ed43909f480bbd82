/*
 * Named block nodes: QMP blockdev-add / blockdev-del,
 * query-named-block-nodes, query-blockstats with query-nodes, and the
 * -blockdev command line option (blockdev_add_str), with QEMU 7.2's
 * replies and error texts (block/qapi.c, blockdev.c).
 * Nodes live in a graph list in creation order (an implicit child, such as
 * a nested "file": {...}, comes before its parent, as in QEMU).
 * Locking: everything runs in the main loop with the BQL held.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "block/block.h"
#include "block/qcow2.h"
#include "monitor/monitor-internal.h"
#include "util/cutils.h"
#include "util/module.h"

typedef struct BlkNode BlkNode;
struct BlkNode {
    char *name;
    BlockDriverState *bs;       /* one reference held by the node */
    BlkNode *file;              /* child node (named or implicit) */
    BlkNode *backing;           /* backing node given by node-name */
    BlkNode *auto_backing;      /* implicit nodes of a backing chain opened from the header */
    bool implicit;              /* auto-named child, deleted with its parent */
    int parents;                /* nodes using this one as file/backing */
    bool ro, direct, no_flush;
    char *detect_zeroes;
};

static GList *graph;            /* BlkNode *, oldest first */
static unsigned block_id_counter;

static BlkNode *node_find(const char *name)
{
    for (GList *l = graph; l; l = l->next) {
        BlkNode *n = l->data;
        if (!strcmp(n->name, name)) {
            return n;
        }
    }
    return NULL;
}

BlockDriverState *blockdev_find_node(const char *node_name)
{
    BlkNode *n = node_find(node_name);
    return n ? n->bs : NULL;
}

static void node_free(BlkNode *n)
{
    graph = g_list_remove(graph, n);
    if (n->file) {
        n->file->parents--;
    }
    if (n->backing) {
        n->backing->parents--;
    }
    bdrv_unref(n->bs);
    if (n->file && n->file->implicit) {
        node_free(n->file);
    }
    if (n->auto_backing) {
        node_free(n->auto_backing);
    }
    g_free(n->name);
    g_free(n->detect_zeroes);
    g_free(n);
}

static BlkNode *node_new_implicit(BlockDriverState *bs)
{
    BlkNode *n = g_new0(BlkNode, 1);
    n->name = g_strdup_printf("#block%u%02d", ++block_id_counter, g_random_int_range(0, 100));
    g_free(bs->node_name);
    bs->node_name = g_strdup(n->name);
    bdrv_ref(bs);
    n->bs = bs;
    n->implicit = true;
    n->ro = bs->read_only;
    n->direct = !!(bs->open_flags & BDRV_O_NOCACHE);
    n->no_flush = !!(bs->open_flags & BDRV_O_NO_FLUSH);
    n->detect_zeroes = g_strdup("off");
    return n;
}

/* Nodes for a backing chain bdrv_open() opened from an image header (QEMU
 * names them "#blockNNN"): each file child, then its format node. */
static BlkNode *register_chain(BlockDriverState *bs)
{
    BlkNode *file = NULL;
    if (bs->file) {
        file = node_new_implicit(bs->file);
        graph = g_list_append(graph, file);
    }
    BlkNode *n = node_new_implicit(bs);
    n->file = file;
    if (file) {
        file->parents++;
    }
    graph = g_list_append(graph, n);
    if (bs->backing) {
        n->auto_backing = register_chain(bs->backing);
    }
    return n;
}

static bool is_protocol(const char *drv)
{
    return !strcmp(drv, "file") || !strcmp(drv, "host_device");
}


static bool kv_has_prefix(const KVDict *o, const char *prefix)
{
    for (int i = 0; i < o->n; i++) {
        if (g_str_has_prefix(o->p[i].key, prefix)) {
            return true;
        }
    }
    return false;
}

static bool get_bool(KVDict *o, const char *key, bool def, bool *out, Error **errp)
{
    return kv_get_bool(o, key, def, out, errp);
}

static BlkNode *node_add(KVDict *o, bool backing_null, bool implicit, bool parent_rw,
                         Error **errp)
{
    const char *drv = kv_get(o, "driver");
    if (!drv) {
        error_setg(errp, "Parameter 'driver' is missing");
        return NULL;
    }
    if (!is_protocol(drv) && strcmp(drv, "raw") && strcmp(drv, "qcow2")) {
        error_setg(errp, "Parameter 'driver' does not accept value '%s'", drv);
        return NULL;
    }
    const char *name = kv_get(o, "node-name");
    if (!name && !implicit) {
        error_setg(errp, "'node-name' must be specified for the root node");
        return NULL;
    }
    if (name && !id_wellformed(name)) {
        error_setg(errp, "Invalid node-name: '%s'", name);
        return NULL;
    }
    if (name && node_find(name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", name);
        return NULL;
    }
    bool ro, auto_ro, direct, no_flush;
    if (!get_bool(o, "read-only", implicit ? !parent_rw : false, &ro, errp) ||
        !get_bool(o, "auto-read-only", false, &auto_ro, errp) ||
        !get_bool(o, "cache.direct", false, &direct, errp) ||
        !get_bool(o, "cache.no-flush", false, &no_flush, errp)) {
        return NULL;
    }
    const char *dz = kv_get(o, "detect-zeroes");
    if (dz && strcmp(dz, "off") && strcmp(dz, "on") && strcmp(dz, "unmap")) {
        error_setg(errp, "Parameter 'detect-zeroes' does not accept value '%s'", dz);
        return NULL;
    }
    const char *discard = kv_get(o, "discard");
    if (discard && strcmp(discard, "ignore") && strcmp(discard, "unmap") &&
        strcmp(discard, "off") && strcmp(discard, "on")) {
        error_setg(errp, "Parameter 'discard' does not accept value '%s'", discard);
        return NULL;
    }
    int flags = (ro ? 0 : BDRV_O_RDWR) | (direct ? BDRV_O_NOCACHE : 0) |
                (no_flush ? BDRV_O_NO_FLUSH : 0);
    BlockDriverState *bs = NULL;
    BlkNode *file = NULL, *backing = NULL, *implicit_file = NULL;

    if (is_protocol(drv)) {
        const char *fn = kv_peek(o, "filename");
        if (!fn) {
            error_setg(errp, "Parameter 'filename' is missing");
            return NULL;
        }
        g_autofree char *filename = g_strdup(fn);
        Error *local = NULL;
        bs = bdrv_open_protocol(filename, drv, o, flags, &local);
        if (!bs && auto_ro && (flags & BDRV_O_RDWR)) {
            error_free(local);
            local = NULL;
            flags &= ~BDRV_O_RDWR;
            ro = true;
            bs = bdrv_open_protocol(filename, drv, o, flags, &local);
        }
        if (!bs) {
            error_propagate(errp, local);
            return NULL;
        }
    } else {
        const char *fref = kv_peek(o, "file");
        if (fref) {
            kv_get(o, "file");
            file = node_find(fref);
            if (!file) {
                error_setg(errp, "Cannot find device='%s' nor node-name='%s'", fref, fref);
                return NULL;
            }
        } else {
            KVDict *sub = kv_sub(o, "file");
            if (!sub || !sub->n) {
                kv_free(sub);
                error_setg(errp, "Parameter 'file' is missing");
                return NULL;
            }
            file = implicit_file = node_add(sub, false, true, !ro, errp);
            kv_free(sub);
            if (!file) {
                return NULL;
            }
        }
        if (strcmp(drv, "qcow2") && (backing_null || kv_has(o, "backing") ||
                                     kv_has_prefix(o, "backing."))) {
            error_setg(errp, "Parameter 'backing' is unexpected");
            goto fail;
        }
        if (kv_has_prefix(o, "backing.")) {
            error_setg(errp, "Parameter 'backing' does not accept a nested node in kemu");
            goto fail;
        }
        const char *bref = kv_peek(o, "backing");
        if (bref) {
            kv_get(o, "backing");
            if (*bref && strcmp(bref, "null")) {
                backing = node_find(bref);
                if (!backing) {
                    error_setg(errp, "Could not open backing file: Cannot find device='%s' "
                               "nor node-name='%s'", bref, bref);
                    goto fail;
                }
            } else {
                backing_null = true;
            }
        }
        KVDict *fo = kv_new();
        if (!strcmp(drv, "raw")) {
            const char *v;
            if ((v = kv_get(o, "offset"))) {
                kv_set(fo, "offset", v);
            }
            if ((v = kv_get(o, "size"))) {
                kv_set(fo, "size", v);
            }
        }
        bs = bdrv_open_format_on(file->bs, drv, fo, flags, errp);
        kv_free(fo);
        if (!bs) {
            goto fail;
        }
        if (backing) {
            bdrv_ref(backing->bs);
            bs->backing = backing->bs;
        } else if (!backing_null && bs->backing_file[0]) {
            g_autofree char *bname = bdrv_resolve_backing_name(bs->filename, bs->backing_file);
            Error *local = NULL;
            bs->backing = bdrv_open(bname, bs->backing_format[0] ? bs->backing_format : NULL,
                                    NULL, flags & ~BDRV_O_RDWR, &local);
            if (!bs->backing) {
                error_setg(errp, "Could not open backing file: %s", error_get_pretty(local));
                error_free(local);
                bdrv_unref(bs);
                goto fail;
            }
        }
    }
    for (int i = 0; i < o->n; i++) {
        if (!o->p[i].used) {
            error_setg(errp, "Parameter '%s' is unexpected", o->p[i].key);
            bdrv_unref(bs);
            goto fail;
        }
    }

    BlkNode *n = g_new0(BlkNode, 1);
    n->name = name ? g_strdup(name)
                   : g_strdup_printf("#block%u%02d", ++block_id_counter, g_random_int_range(0, 100));
    g_free(bs->node_name);
    bs->node_name = g_strdup(n->name);
    n->bs = bs;
    n->implicit = implicit;
    n->ro = ro;
    n->direct = direct;
    n->no_flush = no_flush;
    n->detect_zeroes = g_strdup(dz ? dz : "off");
    n->file = file;
    n->backing = backing;
    if (file) {
        file->parents++;
    }
    if (backing) {
        backing->parents++;
    }
    graph = g_list_append(graph, n);
    if (bs->backing && !backing) {
        n->auto_backing = register_chain(bs->backing);
    }
    return n;

fail:
    if (implicit_file) {
        node_free(implicit_file);
    }
    return NULL;
}

/* The QAPI visitor's type checks (BlockdevOptions) for the members kemu
 * knows, with QEMU's texts; nested "file" objects are checked too. */
static bool check_types(JsonObject *o, const char *prefix, Error **errp)
{
    static const struct { const char *key; JsonType t; const char *name; } members[] = {
        { "driver", JSON_STRING, "string" }, { "node-name", JSON_STRING, "string" },
        { "filename", JSON_STRING, "string" }, { "discard", JSON_STRING, "string" },
        { "detect-zeroes", JSON_STRING, "string" }, { "aio", JSON_STRING, "string" },
        { "locking", JSON_STRING, "string" },
        { "read-only", JSON_BOOL, "boolean" }, { "auto-read-only", JSON_BOOL, "boolean" },
        { "force-share", JSON_BOOL, "boolean" }, { "cache", JSON_OBJECT, "object" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(members); i++) {
        JsonValue *v = json_object_get(o, members[i].key);
        if (v && v->type != members[i].t) {
            error_setg(errp, "Invalid parameter type for '%s%s', expected: %s", prefix,
                       members[i].key, members[i].name);
            return false;
        }
    }
    JsonValue *c = json_object_get(o, "cache");
    if (c) {
        static const char *const cb[] = { "direct", "no-flush" };
        for (unsigned i = 0; i < G_N_ELEMENTS(cb); i++) {
            JsonValue *v = json_object_get(c, cb[i]);
            if (v && v->type != JSON_BOOL) {
                error_setg(errp, "Invalid parameter type for '%scache.%s', expected: boolean",
                           prefix, cb[i]);
                return false;
            }
        }
    }
    JsonValue *f = json_object_get(o, "file");
    if (f && f->type != JSON_STRING && f->type != JSON_OBJECT) {
        error_setg(errp, "Invalid parameter type for '%sfile', expected: BlockdevRef", prefix);
        return false;
    }
    if (f && f->type == JSON_OBJECT) {
        g_autofree char *sub = g_strdup_printf("%sfile.", prefix);
        if (!check_types(f, sub, errp)) {
            return false;
        }
    }
    JsonValue *b = json_object_get(o, "backing");
    if (b && b->type != JSON_STRING && b->type != JSON_OBJECT && b->type != JSON_NULL) {
        error_setg(errp, "Invalid parameter type for '%sbacking', expected: BlockdevRefOrNull",
                   prefix);
        return false;
    }
    return true;
}

/* Add a root node from a JSON object (QMP arguments, -blockdev '{...}'). */
static bool blockdev_add_json(JsonObject *args, Error **errp)
{
    if (!check_types(args, "", errp)) {
        return false;
    }
    JsonValue *copy = json_copy(args);
    bool backing_null = false;
    JsonValue *b = json_object_get(copy, "backing");
    if (b && b->type == JSON_NULL) {
        json_free(json_object_steal(copy, "backing"));
        backing_null = true;
    }
    KVDict *o = kv_from_json_object(copy, errp);
    json_free(copy);
    if (!o) {
        return false;
    }
    BlkNode *n = node_add(o, backing_null, false, true, errp);
    kv_free(o);
    return n != NULL;
}

bool blockdev_add_str(const char *arg, Error **errp)
{
    const char *p = arg;
    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (*p == '{') {
        JsonValue *v = json_parse_str(arg, errp);
        if (!v) {
            return false;
        }
        if (v->type != JSON_OBJECT) {
            json_free(v);
            error_setg(errp, "JSON object expected");
            return false;
        }
        bool ok = blockdev_add_json(v, errp);
        json_free(v);
        return ok;
    }
    KVDict *o = kv_parse(arg, NULL, errp);
    if (!o) {
        return false;
    }
    BlkNode *n = node_add(o, false, false, true, errp);
    kv_free(o);
    return n != NULL;
}

static JsonValue *qmp_blockdev_add(Monitor *mon, JsonObject *args, Error **errp)
{
    blockdev_add_json(args, errp);
    return NULL;
}

static JsonValue *qmp_blockdev_del(Monitor *mon, JsonObject *args, Error **errp)
{
    const char *name = json_object_get_str(args, "node-name");
    BlkNode *n = node_find(name);
    if (!n) {
        error_setg(errp, "Failed to find node with node-name='%s'", name);
        return NULL;
    }
    /* QEMU's order: attached to a device, op blockers, ownership, refcount */
    for (BlockBackend *blk = blk_next(NULL); blk; blk = blk_next(blk)) {
        if (blk_bs(blk) == n->bs) {
            error_setg(errp, "Node %s is in use", name);
            return NULL;
        }
    }
    for (GList *l = graph; l; l = l->next) {
        BlkNode *p = l->data;
        if (p->backing == n) {
            error_setg(errp, "Node '%s' is busy: node is used as backing hd of '%s'",
                       name, p->name);
            return NULL;
        }
    }
    if (n->implicit) {
        error_setg(errp, "Node %s is not owned by the monitor", name);
        return NULL;
    }
    if (n->parents) {
        error_setg(errp, "Block device %s is in use", name);
        return NULL;
    }
    node_free(n);
    return NULL;
}

/* ----------------------------------------------------------- queries */

static int backing_depth(BlockDriverState *bs)
{
    int d = 0;
    for (BlockDriverState *b = bs->backing; b; b = b->backing) {
        d++;
    }
    return d;
}

static BlkNode *node_by_bs(BlockDriverState *bs)
{
    for (GList *l = graph; l; l = l->next) {
        if (((BlkNode *)l->data)->bs == bs) {
            return l->data;
        }
    }
    return NULL;
}

/* A backing node given by reference that is not the one the image header
 * names: QEMU's bdrv_refresh_filename() then describes the node as json:{}
 * (keys sorted). */
static bool backing_overridden(BlockDriverState *bs)
{
    BlkNode *n = node_by_bs(bs);
    return n && n->backing && strcmp(bs->backing_file, bs->backing->filename);
}

static void node_json(GString *g, BlockDriverState *bs)
{
    g_string_append_c(g, '{');
    if (backing_overridden(bs)) {
        g_string_append(g, "\"backing\": ");
        node_json(g, bs->backing);
        g_string_append(g, ", ");
    }
    g_string_append(g, "\"driver\": ");
    json_emit_string(g, bs->drv->format_name);
    if (bs->file) {
        g_string_append(g, ", \"file\": ");
        node_json(g, bs->file);
    } else {
        g_string_append(g, ", \"filename\": ");
        json_emit_string(g, bs->filename);
    }
    g_string_append_c(g, '}');
}

static char *display_filename(BlockDriverState *bs)
{
    if (!backing_overridden(bs)) {
        return g_strdup(bs->filename);
    }
    GString *g = g_string_new("json:");
    node_json(g, bs);
    return g_string_free(g, false);
}

static JsonObject *image_info(BlockDriverState *bs)
{
    JsonObject *im = json_object_new();
    json_object_set(im, "filename", json_string_take(display_filename(bs)));
    json_object_set_str(im, "format", bs->drv->format_name);
    /* QEMU's bdrv_getlength() counts whole sectors */
    int64_t len = bdrv_getlength(bs);
    json_object_set_int(im, "virtual-size",
                        len < 0 ? len : ROUND_UP(len, (int64_t)BDRV_SECTOR_SIZE));
    int64_t actual = bdrv_get_allocated_file_size(bs);
    if (actual >= 0) {
        json_object_set_int(im, "actual-size", actual);
    }
    bool dirty = false;
    if (!strcmp(bs->drv->format_name, "qcow2")) {
        BDRVQcow2State *s = bs->opaque;
        json_object_set_int(im, "cluster-size", s->cluster_size);
        JsonObject *fs = json_object_new();
        json_object_set_str(fs, "type", "qcow2");
        JsonObject *d = json_object_new();
        json_object_set_str(d, "compat", s->qcow_version >= 3 ? "1.1" : "0.10");
        json_object_set_str(d, "compression-type",
                            s->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
        if (s->qcow_version >= 3) {
            json_object_set_bool(d, "lazy-refcounts",
                                 !!(s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS));
        }
        json_object_set_int(d, "refcount-bits", s->refcount_bits);
        if (s->qcow_version >= 3) {
            json_object_set_bool(d, "corrupt", !!(s->incompatible_features & QCOW2_INCOMPAT_CORRUPT));
            json_object_set_bool(d, "extended-l2", s->extended_l2);
        }
        json_object_set(fs, "data", d);
        json_object_set(im, "format-specific", fs);
        if (bs->backing_file[0]) {
            json_object_set_str(im, "backing-filename", bs->backing_file);
            g_autofree char *full = bdrv_resolve_backing_name(bs->filename, bs->backing_file);
            json_object_set_str(im, "full-backing-filename", full);
            if (bs->backing_format[0]) {
                json_object_set_str(im, "backing-filename-format", bs->backing_format);
            }
        }
    }
    json_object_set_bool(im, "dirty-flag", dirty);
    return im;
}

static JsonObject *node_info(BlkNode *n, bool flat)
{
    BlockDriverState *bs = n->bs;
    JsonObject *o = json_object_new();
    json_object_set(o, "file", json_string_take(display_filename(bs)));
    json_object_set_str(o, "node-name", n->name);
    json_object_set_bool(o, "ro", n->ro);
    json_object_set_str(o, "drv", bs->drv->format_name);
    if (bs->backing) {
        json_object_set_str(o, "backing_file", bs->backing->filename);
    }
    /* QEMU counts the backing-image levels it reports: none when flat */
    json_object_set_int(o, "backing_file_depth", flat ? 0 : backing_depth(bs));
    json_object_set_bool(o, "encrypted", false);
    json_object_set_str(o, "detect_zeroes", n->detect_zeroes);
    static const char *const zero[] = { "bps", "bps_rd", "bps_wr", "iops", "iops_rd",
                                        "iops_wr" };
    for (unsigned i = 0; i < G_N_ELEMENTS(zero); i++) {
        json_object_set_int(o, zero[i], 0);
    }
    JsonObject *im = image_info(bs);
    if (!flat && bs->backing) {
        JsonObject *bi = image_info(bs->backing);
        JsonObject *cur = bi;
        for (BlockDriverState *b = bs->backing->backing; b; b = b->backing) {
            JsonObject *nx = image_info(b);
            json_object_set(cur, "backing-image", nx);
            cur = nx;
        }
        json_object_set(im, "backing-image", bi);
    }
    json_object_set(o, "image", im);
    json_object_set_int(o, "write_threshold", 0);
    JsonObject *c = json_object_new();
    json_object_set_bool(c, "writeback", true);
    json_object_set_bool(c, "direct", n->direct);
    json_object_set_bool(c, "no-flush", n->no_flush);
    json_object_set(o, "cache", c);
    return o;
}

/* ---- for the drives of devices (cmds-drive.c, system/blockdev.c) ---- */

static JsonObject *node_stats(BlockDriverState *bs);

void blockdev_register_chain(BlockDriverState *bs)
{
    char *explicit_name = bs->node_name ? g_strdup(bs->node_name) : NULL;
    BlkNode *n = register_chain(bs);
    if (explicit_name) {                /* -drive ...,node-name=X */
        g_free(n->name);
        n->name = g_strdup(explicit_name);
        g_free(bs->node_name);
        bs->node_name = explicit_name;
        n->implicit = false;
    }
}

void blockdev_unregister_chain(BlockDriverState *bs)
{
    BlkNode *n = node_by_bs(bs);
    if (n) {
        node_free(n);
    }
}

JsonObject *blockdev_inserted_info(BlockDriverState *bs)
{
    BlkNode *n = node_by_bs(bs);
    if (!n) {
        blockdev_register_chain(bs);
        n = node_by_bs(bs);
    }
    return node_info(n, false);
}

JsonObject *blockdev_node_stats(BlockDriverState *bs)
{
    return node_stats(bs);
}

void blockdev_foreach_node(void (*fn)(BlockDriverState *bs, void *opaque), void *opaque)
{
    for (GList *l = graph; l; l = l->next) {
        fn(((BlkNode *)l->data)->bs, opaque);
    }
}

static JsonValue *qmp_query_named_block_nodes(Monitor *mon, JsonObject *args, Error **errp)
{
    bool flat = json_object_get_bool(args, "flat", false);
    JsonValue *a = json_array_new();
    for (GList *l = g_list_last(graph); l; l = l->prev) {
        json_array_append(a, node_info(l->data, flat));
    }
    return a;
}

/* BlockDeviceStats: QEMU's keys; st NULL = a node QEMU does not account. */
JsonObject *blockdev_stats_json(const BlockAcctStats *st, bool accounting)
{
    static const BlockAcctStats none;
    if (!st) {
        st = &none;
    }
    const struct { const char *key; uint64_t val; } v[] = {
        { "rd_bytes", st->rd_bytes }, { "wr_bytes", st->wr_bytes },
        { "unmap_bytes", st->unmap_bytes }, { "rd_operations", st->rd_ops },
        { "wr_operations", st->wr_ops }, { "flush_operations", st->flush_ops },
        { "unmap_operations", st->unmap_ops }, { "rd_total_time_ns", st->rd_total_ns },
        { "wr_total_time_ns", st->wr_total_ns }, { "flush_total_time_ns", st->flush_total_ns },
        { "unmap_total_time_ns", st->unmap_total_ns },
        { "wr_highest_offset", st->wr_highest_offset }, { "rd_merged", 0 },
        { "wr_merged", 0 }, { "unmap_merged", 0 },
        { "failed_rd_operations", st->failed_rd_ops }, { "failed_wr_operations", st->failed_wr_ops },
        { "failed_flush_operations", st->failed_flush_ops },
        { "failed_unmap_operations", st->failed_unmap_ops },
        { "invalid_rd_operations", 0 }, { "invalid_wr_operations", 0 },
        { "invalid_flush_operations", 0 }, { "invalid_unmap_operations", 0 },
    };
    JsonObject *s = json_object_new();
    for (unsigned i = 0; i < G_N_ELEMENTS(v); i++) {
        json_object_set_int(s, v[i].key, (int64_t)v[i].val);
    }
    if (st->last_access_ns) {
        json_object_set_int(s, "idle_time_ns", g_get_monotonic_time() * 1000 - st->last_access_ns);
    }
    json_object_set_bool(s, "account_invalid", accounting);
    json_object_set_bool(s, "account_failed", accounting);
    json_object_set(s, "timed_stats", json_array_new());
    return s;
}

static JsonObject *node_stats(BlockDriverState *bs)
{
    JsonObject *o = json_object_new();
    if (bs->node_name) {
        json_object_set_str(o, "node-name", bs->node_name);
    }
    json_object_set(o, "stats", blockdev_stats_json(NULL, false));
    if (!bs->drv->is_format && !strcmp(bs->drv->format_name, "file")) {
        JsonObject *d = json_object_new();
        json_object_set_str(d, "driver", "file");
        json_object_set_int(d, "discard-nb-ok", 0);
        json_object_set_int(d, "discard-nb-failed", 0);
        json_object_set_int(d, "discard-bytes-ok", 0);
        json_object_set(o, "driver-specific", d);
    }
    if (bs->file) {
        json_object_set(o, "parent", node_stats(bs->file));
    }
    /* "backing" only at the BlockBackend level (not with query-nodes) */
    return o;
}


static const MonCmd block_cmds[] = {
    { .name = "blockdev-add", .qmp = qmp_blockdev_add, .flags = MON_CMD_ANY_ARGS },
    { .name = "blockdev-del", .args = "node-name:s", .qmp = qmp_blockdev_del },
    { .name = "query-named-block-nodes", .args = "flat:b?",
      .qmp = qmp_query_named_block_nodes },
    { .name = NULL, .hmp = NULL },
};

MODULE_INIT(block_cmds_register)
{
    mon_cmds_register(block_cmds);
}
