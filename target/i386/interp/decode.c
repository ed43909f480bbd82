/*
 * Instruction decoder: prefixes, REX, opcode maps, ModRM/SIB/displacement
 * and immediates into an Insn whose handler is chosen here per form and
 * operand size; plus the decode cache (direct-mapped by linear RIP, each
 * hit validated by comparing the raw instruction bytes).
 * Spec: Intel SDM vol. 2 chapter 2 and appendix A.
 * Locking: vCPU thread only; the row tables are built once, read-only after.
 */
#include "interp.h"
#include "decode-attrs.h"

/* Declare every handler family the table references. */
#define I(map, op, n, ext, rmx, pfx, attrs, fam) extern const InsnHandler F_##fam[8];
#include "insn.def"
#undef I

typedef struct OpRow {
    uint8_t map, op, n;
    int8_t ext, rmx, pfx;
    uint32_t attrs;
    const InsnHandler *fam;
} OpRow;

static const OpRow rows[] = {
#define I(map, op, n, ext, rmx, pfx, attrs, fam) \
    { map, op, n, ext, rmx, pfx, attrs, F_##fam },
#include "insn.def"
#undef I
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

_Static_assert(sizeof(DCEntry) == 64, "a decode cache entry should fill one cache line");
#define MAX_ALT 24

/* For each (map, opcode): the list of matching rows, in table order. */
static uint16_t row_idx[4][256][MAX_ALT];
static uint8_t row_cnt[4][256];
static bool decode_ready;

HANDLER(h_ud)
{
    (void)i;
    RAISE_UD(s);
}
FAM1(UD, h_ud);

void decode_init(void)
{
    if (decode_ready) {
        return;
    }
    for (unsigned k = 0; k < NROWS; k++) {
        const OpRow *r = &rows[k];
        for (int o = r->op; o < r->op + r->n; o++) {
            if (row_cnt[r->map][o] < MAX_ALT) {
                row_idx[r->map][o][row_cnt[r->map][o]++] = k;
            }
        }
    }
    decode_ready = true;
}

typedef struct Fetch {
    const uint8_t *buf;
    int avail;
    int pos;
    bool overflow;
} Fetch;

static inline uint8_t fb(Fetch *f)
{
    if (f->pos >= f->avail || f->pos >= 15) {
        f->overflow = true;
        f->pos++;
        return 0;
    }
    return f->buf[f->pos++];
}

static uint64_t fimm(Fetch *f, int n)
{
    uint64_t v = 0;
    for (int k = 0; k < n; k++) {
        v |= (uint64_t)fb(f) << (8 * k);
    }
    return v;
}

/* Instructions after which a basic block stops: transfers of control and
 * the few that usually change mode or end the slice. (Anything else that
 * leaves the straight line - a REP restart, a mode change, a store into the
 * running code page - is caught while the block runs, see exec.c.) */
static bool ends_block(int map, uint8_t op, int regf)
{
    if (map == 0) {
        return (op >= 0x70 && op <= 0x7f) || (op >= 0xc2 && op <= 0xc3) ||
               (op >= 0xca && op <= 0xcf) || (op >= 0xe0 && op <= 0xe3) ||
               (op >= 0xe8 && op <= 0xeb) || op == 0x9a || op == 0xf4 || op == 0xf1 ||
               op == 0x9d || op == 0xfb || op == 0x8e || op == 0x17 ||
               (op == 0xff && regf >= 2 && regf <= 5);
    }
    if (map == 1) {
        return (op >= 0x80 && op <= 0x8f) || op == 0x00 || op == 0x01 ||
               op == 0x05 || op == 0x07 || op == 0x0b || op == 0x22 ||
               op == 0x30 || op == 0x34 || op == 0x35;
    }
    return false;
}

static const uint8_t sz_log2[9] = { 0, 0, 1, 0, 2, 0, 0, 0, 3 };

/*
 * Decode one instruction. Returns the length, 0 if more bytes are needed
 * than 'avail' (the caller fetches more), or -1 when the length exceeds 15.
 * Invalid encodings decode to the #UD handler.
 */
static int decode_one(const uint8_t *buf, int avail, int code_size, Insn *in)
{
    Fetch f = { buf, avail, 0, false };
    int opsz_pfx = 0, adsz_pfx = 0, rep = 0, lock = 0, seg = -1, last_sse = 0;
    uint8_t rex = 0;
    uint8_t b;
    bool mode64 = code_size == 8;

    memset(in, 0, sizeof(*in));
    for (;;) {
        b = fb(&f);
        if (f.overflow) {
            return f.pos > 15 ? -1 : 0;
        }
        switch (b) {
        case 0x66: opsz_pfx = 1; rex = 0; continue;
        case 0x67: adsz_pfx = 1; rex = 0; continue;
        case 0xf0: lock = 1; rex = 0; continue;
        case 0xf2: rep = 0xf2; last_sse = 3; rex = 0; continue;
        case 0xf3: rep = 0xf3; last_sse = 2; rex = 0; continue;
        case 0x26: if (!mode64) { seg = R_ES; } rex = 0; continue;
        case 0x2e: if (!mode64) { seg = R_CS; } rex = 0; continue;
        case 0x36: if (!mode64) { seg = R_SS; } rex = 0; continue;
        case 0x3e: if (!mode64) { seg = R_DS; } rex = 0; continue;
        case 0x64: seg = R_FS; rex = 0; continue;
        case 0x65: seg = R_GS; rex = 0; continue;
        default:
            break;
        }
        if (mode64 && (b & 0xf0) == 0x40) {
            rex = b;
            continue;
        }
        break;
    }

    int map = 0;
    if (b == 0x0f) {
        b = fb(&f);
        map = 1;
        if (b == 0x38) {
            b = fb(&f);
            map = 2;
        } else if (b == 0x3a) {
            b = fb(&f);
            map = 3;
        }
    }
    if (f.overflow) {
        return f.pos > 15 ? -1 : 0;
    }
    in->op = b;
    int pfx = last_sse ? last_sse : (opsz_pfx ? 1 : 0);
    in->pfx = pfx;

    int cnt = row_cnt[map][b];
    const OpRow *first = cnt ? &rows[row_idx[map][b][0]] : NULL;
    bool has_modrm = first && (first->attrs & M);
    uint8_t modrm = 0;
    int mod = 0, regf = 0, rmf = 0;
    if (has_modrm) {
        modrm = fb(&f);
        mod = modrm >> 6;
        regf = (modrm >> 3) & 7;
        rmf = modrm & 7;
    }

    const OpRow *row = NULL;
    for (int k = 0; k < cnt; k++) {
        const OpRow *r = &rows[row_idx[map][b][k]];
        if (r->ext >= 0 && r->ext != regf) {
            continue;
        }
        if (r->rmx >= 0 && (mod != 3 || r->rmx != rmf)) {
            continue;
        }
        if ((r->attrs & MO) && mod == 3 && !(r->attrs & MOVCR)) {
            continue;
        }
        if ((r->attrs & RO) && mod != 3) {
            continue;
        }
        if (r->pfx >= 0 && r->pfx != pfx) {
            continue;
        }
        if ((r->attrs & I64) && mode64) {
            continue;
        }
        if ((r->attrs & O64) && !mode64) {
            continue;
        }
        row = r;
        break;
    }
    uint32_t at = row ? row->attrs : 0;

    /* operand and address size */
    int osz;
    if (at & B) {
        osz = 1;
    } else if (mode64) {
        if ((at & F64) || ((at & D64) && !opsz_pfx) || (rex & 8)) {
            osz = 8;
        } else {
            osz = opsz_pfx ? 2 : 4;
        }
    } else {
        osz = (code_size == 4) ^ opsz_pfx ? 4 : 2;
        if (at & MOVCR) {
            osz = 4;
        }
    }
    if ((at & OP32) && osz == 8) {
        osz = 4;
    }
    int asz = mode64 ? (adsz_pfx ? 4 : 8) : ((code_size == 4) ^ adsz_pfx ? 4 : 2);
    in->opsize = osz;
    in->addrsize = asz;
    in->rep = rep;
    in->flags = (rex ? IF_REX : 0) | (lock ? IF_LOCK : 0) | ((rex & 8) ? IF_REXW : 0) |
                (seg >= 0 ? IF_SEGOVR : 0);
    in->seg = seg >= 0 ? seg : R_DS;
    in->base = 0xff;
    in->index = 0xff;

    if (at & OR3) {
        in->rm = (b & 7) | ((rex & 1) << 3);
        in->mod = 3;
    } else if (at & AR) {
        in->rm = 0;
        in->mod = 3;
    }

    if (has_modrm) {
        in->mod = mod;
        in->reg = regf | ((rex & 4) << 1);
        in->rm = rmf | ((rex & 1) << 3);
        if (mod != 3 && !(at & MOVCR)) {
            in->flags |= IF_MEM;
            int defseg = R_DS;
            if (asz == 2) {
                static const uint8_t b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
                static const uint8_t i16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, 0xff, 0xff, 0xff, 0xff };
                if (mod == 0 && rmf == 6) {
                    in->disp = (int16_t)fimm(&f, 2);
                } else {
                    in->base = b16[rmf];
                    in->index = i16[rmf];
                    if (rmf == 2 || rmf == 3 || rmf == 6) {
                        defseg = R_SS;
                    }
                    if (mod == 1) {
                        in->disp = (int8_t)fb(&f);
                    } else if (mod == 2) {
                        in->disp = (int16_t)fimm(&f, 2);
                    }
                }
            } else {
                if (rmf == 4) {
                    uint8_t sib = fb(&f);
                    int sbase = sib & 7, sidx = (sib >> 3) & 7;
                    in->scale = sib >> 6;
                    sidx |= (rex & 2) << 2;
                    if (sidx != 4) {
                        in->index = sidx;
                    }
                    if (sbase == 5 && mod == 0) {
                        in->disp = (int32_t)fimm(&f, 4);
                    } else {
                        in->base = sbase | ((rex & 1) << 3);
                        if (sbase == 4 || sbase == 5) {
                            defseg = R_SS;
                        }
                    }
                } else if (rmf == 5 && mod == 0) {
                    in->disp = (int32_t)fimm(&f, 4);
                    if (mode64) {
                        in->flags |= IF_RIPREL;
                    }
                } else {
                    in->base = rmf | ((rex & 1) << 3);
                    if (rmf == 5) {
                        defseg = R_SS;
                    }
                }
                if (mod == 1) {
                    in->disp = (int8_t)fb(&f);
                } else if (mod == 2) {
                    in->disp = (int32_t)fimm(&f, 4);
                }
            }
            if (seg < 0) {
                in->seg = defseg;
            }
            if (asz == 8 && !(in->flags & IF_RIPREL) && in->base != 0xff &&
                in->seg != R_FS && in->seg != R_GS) {
                in->eaf = in->index == 0xff ? EAF_B64 : EAF_BIS64;
            }
        } else {
            in->mod = 3;
        }
    }

    /* immediates */
    if (at & IB) {
        in->imm = (uint64_t)(int64_t)(int8_t)fb(&f);
    } else if (at & IW) {
        in->imm = fimm(&f, 2);
    } else if (at & IZ) {
        int n = osz == 2 ? 2 : 4;
        in->imm = n == 2 ? (uint64_t)(int64_t)(int16_t)fimm(&f, 2)
                         : (uint64_t)(int64_t)(int32_t)fimm(&f, 4);
    } else if (at & IV) {
        in->imm = fimm(&f, osz);
    } else if (at & IA) {
        in->imm = fimm(&f, asz);
    } else if (at & FP) {
        in->imm = fimm(&f, osz == 2 ? 2 : 4);
        in->imm2 = fimm(&f, 2);
    } else if (at & EN) {
        in->imm = fimm(&f, 2);
        in->imm2 = fb(&f);
    }
    if (f.overflow) {
        return f.pos > 15 ? -1 : 0;
    }
    in->len = f.pos;

    if (!row) {
        in->h = F_UD[0];
        return f.pos;
    }
    if (lock && (!(at & LK) || !(in->flags & IF_MEM))) {
        in->h = F_UD[0];
        return f.pos;
    }
    int fi = ((in->flags & IF_MEM) ? 4 : 0) + sz_log2[osz];
    in->h = row->fam[fi];
    if (in->h == F_JCC[0]) {
        in->h = jcc_by_cc[in->op & 15];
    }
    if (ends_block(map, b, regf)) {
        in->flags |= IF_ENDBLK;
    }
    return f.pos;
}

int decode_insn(const uint8_t *buf, int avail, int code_size, Insn *in)
{
    int n = decode_one(buf, avail, code_size, in);
    if (n > 0 && in->h == F_UD[0]) {
        in->flags |= IF_ENDBLK;
    }
    return n;
}

int decode_buffer(const uint8_t *buf, int avail, int code_size, Insn *out)
{
    decode_init();
    int n = decode_one(buf, avail, code_size, out);
    if (n <= 0) {
        return -1;
    }
    if (out->h == F_UD[0]) {
        return -2 - n;   /* decoded, but #UD: -(len + 2) */
    }
    return n;
}

#define M8(n) ((n) >= 8 ? ~0ull : (1ull << (8 * (n))) - 1)
const uint64_t dc_mask_lo[16] = {
    M8(0), M8(1), M8(2), M8(3), M8(4), M8(5), M8(6), M8(7),
    M8(8), M8(9), M8(10), M8(11), M8(12), M8(13), M8(14), M8(15),
};
const uint64_t dc_mask_hi[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, M8(1), M8(2), M8(3), M8(4), M8(5), M8(6), M8(7),
};
#undef M8

/* Fetch up to 15 instruction bytes at linear address la. Only faults when a
 * byte that is really needed lies on an unmapped page. */
static int fetch_bytes(Interp *s, uint64_t la, uint8_t *buf, int want)
{
    int n = 0;
    while (n < want) {
        uint64_t a = (la + n) & s->la_mask;
        int chunk = 4096 - (int)(a & 0xfff);
        if (chunk > want - n) {
            chunk = want - n;
        }
        mem_read_bytes_acc(s, a, buf + n, chunk, ACC_X, s->cpl == 3);
        n += chunk;
    }
    return n;
}

const Insn *decode_fetch_slow(Interp *s, DCEntry *e, uint64_t lip)
{
    CPUX86State *env = s->env;
    uint64_t rip = env->rip;
    uint32_t mode = s->code_size;

    if (e->lip == lip && e->insn.dc_mode == mode) {
        uint8_t tmp[16] = { 0 };
        fetch_bytes(s, lip, tmp, e->insn.len);
        if (memcmp(tmp, e->raw, e->insn.len) == 0) {
            goto check_limit;
        }
    }

    {
        uint8_t buf[16];
        int have = 0, n;
        /* fetch what this page holds first, then more only if needed */
        int first = 4096 - (int)(lip & 0xfff);
        if (first > 15) {
            first = 15;
        }
        have = fetch_bytes(s, lip, buf, first);
        for (;;) {
            n = decode_one(buf, have, s->code_size, &e->insn);
            if (n > 0) {
                break;
            }
            if (n < 0 || have >= 15) {
                RAISE_GP(s, 0);
            }
            have += fetch_bytes(s, lip + have, buf + have, 15 - have);
        }
        memset(e->raw, 0, sizeof(e->raw));
        memcpy(e->raw, buf, n);
        e->lip = lip;
        e->insn.dc_mode = mode;
    }
check_limit:
    e->insn.dc_next = DC_SLOT((lip + e->insn.len) & s->la_mask);
    if (!s->code64) {
        uint64_t last = rip + e->insn.len - 1;
        if (s->pe && !s->vm86 ? last > env->segs[R_CS].limit
                              : (last & 0xffffffffull) > env->segs[R_CS].limit) {
            RAISE_GP(s, 0);
        }
    }
    return &e->insn;
}
