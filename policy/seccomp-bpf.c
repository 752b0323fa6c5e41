/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <endian.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/seccomp-bpf.h"

#define X32_SYSCALL_BIT 0x40000000u
#define BPF_MAX_INSNS 4096
#define X86_NR_SOCKETCALL 102
#define X86_NR_IPC 117

/* seccomp_data: nr, arch, instruction_pointer, args[6], little-endian */
#define OFFSET_NR 0
#define OFFSET_ARCH 4
#define OFFSET_ARG_LO(i) (16 + 8 * (i))
#define OFFSET_ARG_HI(i) (20 + 8 * (i))

static const struct {
        uint32_t scmp, audit;
        bool wide; /* 64-bit arguments */
} arch_table[] = {
        { SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, true },
        { SCMP_ARCH_X32, AUDIT_ARCH_X86_64, false },
        { SCMP_ARCH_X86, AUDIT_ARCH_I386, false },
        { SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64, true },
        { SCMP_ARCH_ARM, AUDIT_ARCH_ARM, false },
};

/* x86's socket and ipc calls: the call number libseccomp's pseudo syscall
 * encodes is read from its table; the direct syscall (Linux 4.3 and 5.1)
 * is this table's, checked against libseccomp's in the unit tests. */
static const struct {
        const char *name;
        int direct; /* 0: reachable only through the multiplexer */
} x86_multiplexed[] = {
        { "socket", 359 }, { "bind", 361 }, { "connect", 362 }, { "listen", 363 },
        { "accept", 0 }, { "getsockname", 367 }, { "getpeername", 368 }, { "socketpair", 360 },
        { "send", 0 }, { "recv", 0 }, { "sendto", 369 }, { "recvfrom", 371 },
        { "shutdown", 373 }, { "setsockopt", 366 }, { "getsockopt", 365 }, { "sendmsg", 370 },
        { "recvmsg", 372 }, { "accept4", 364 }, { "recvmmsg", 337 }, { "sendmmsg", 345 },
        { "semop", 0 }, { "semget", 393 }, { "semctl", 394 }, { "semtimedop", 0 },
        { "msgsnd", 400 }, { "msgrcv", 401 }, { "msgget", 399 }, { "msgctl", 402 },
        { "shmat", 397 }, { "shmdt", 398 }, { "shmget", 395 }, { "shmctl", 396 },
};

typedef struct Cond {
        uint8_t arg;
        bool wide;
        uint8_t op; /* enum scmp_compare */
        uint64_t mask, datum; /* datum already masked */
} Cond;

typedef struct Entry {
        uint32_t nr;      /* as the filter sees it: x32's with its bit */
        uint32_t seq;     /* order of addition: the first unconditional rule wins */
        uint32_t action;
        uint8_t section;
        uint8_t n_conds;
        bool pseudo;      /* a name the ABI lacks: never matches, but its rule still conflicts */
        Cond conds[6];
} Entry;

typedef struct Section {
        uint32_t audit;
        bool x86_64, x32;
        bool pseudo; /* holds a name one of its ABIs lacks */
} Section;

typedef struct Code {
        struct sock_filter *v;
        size_t n, cap;
} Code;

struct SeccompBpf {
        uint32_t default_action, badarch_action;
        struct {
                uint32_t scmp;
                bool wide;
                uint8_t section;
        } arches[ELEMENTSOF(arch_table)];
        size_t n_arches;
        Section sections[ELEMENTSOF(arch_table)];
        size_t n_sections;
        Entry *entries;
        size_t n_entries, cap_entries;
        Code program;
        bool built_as_tree;
};

static void code_done(Code *c) {
        free(c->v);
        *c = (Code){};
}

SeccompBpf *seccomp_bpf_free(SeccompBpf *b) {
        if (!b)
                return NULL;
        free(b->entries);
        code_done(&b->program);
        free(b);
        return NULL;
}

int seccomp_bpf_new(uint32_t default_action, uint32_t badarch_action, SeccompBpf **ret) {
        SeccompBpf *b;

        /* seccomp_data's halves are laid out in the host's byte order */
        if (__BYTE_ORDER != __LITTLE_ENDIAN)
                return -EOPNOTSUPP;
        b = calloc(1, sizeof(SeccompBpf));
        if (!b)
                return -ENOMEM;
        b->default_action = default_action;
        b->badarch_action = badarch_action;
        *ret = b;
        return 0;
}

int seccomp_bpf_add_arch(SeccompBpf *b, uint32_t scmp_arch) {
        size_t t, s;

        for (size_t i = 0; i < b->n_arches; i++)
                if (b->arches[i].scmp == scmp_arch)
                        return 0;
        for (t = 0; t < ELEMENTSOF(arch_table); t++)
                if (arch_table[t].scmp == scmp_arch)
                        break;
        if (t == ELEMENTSOF(arch_table) || b->n_entries > 0)
                return -EOPNOTSUPP;
        for (s = 0; s < b->n_sections; s++)
                if (b->sections[s].audit == arch_table[t].audit)
                        break;
        if (s == b->n_sections)
                b->sections[b->n_sections++] = (Section){ .audit = arch_table[t].audit };
        if (scmp_arch == SCMP_ARCH_X86_64)
                b->sections[s].x86_64 = true;
        if (scmp_arch == SCMP_ARCH_X32)
                b->sections[s].x32 = true;
        b->arches[b->n_arches].scmp = scmp_arch;
        b->arches[b->n_arches].wide = arch_table[t].wide;
        b->arches[b->n_arches].section = (uint8_t) s;
        b->n_arches++;
        code_done(&b->program);
        return 0;
}

/* One condition as libseccomp's rule generator reduces it for the ABI;
 * false when it always holds (a masked test of nothing). */
static bool cond_reduce(const struct scmp_arg_cmp *in, bool wide, Cond *ret) {
        uint64_t mask = in->op == SCMP_CMP_MASKED_EQ ? in->datum_a : UINT64_MAX;
        uint64_t datum = in->op == SCMP_CMP_MASKED_EQ ? in->datum_b : in->datum_a;

        if (!wide)
                mask &= UINT32_MAX;
        if (in->op == SCMP_CMP_MASKED_EQ && (wide ? mask == 0 : (mask & UINT32_MAX) == 0))
                return false;
        *ret = (Cond){ .arg = (uint8_t) in->arg, .wide = wide, .op = (uint8_t) in->op, .mask = mask,
                       .datum = datum & mask };
        return true;
}

static int entry_add(SeccompBpf *b, int nr, uint8_t section, uint32_t action, const Cond *conds,
                     unsigned n_conds) {
        Entry *e;

        if (b->n_entries == b->cap_entries) {
                size_t cap = b->cap_entries ? b->cap_entries * 2 : 512;
                Entry *v = realloc(b->entries, cap * sizeof(Entry));
                if (!v)
                        return -ENOMEM;
                b->entries = v;
                b->cap_entries = cap;
        }
        e = &b->entries[b->n_entries];
        *e = (Entry){ .nr = (uint32_t) nr, .seq = (uint32_t) b->n_entries++, .action = action,
                      .section = section, .n_conds = (uint8_t) n_conds, .pseudo = nr < 0 };
        if (nr < 0)
                b->sections[section].pseudo = true;
        memcpy(e->conds, conds, n_conds * sizeof(Cond));
        code_done(&b->program);
        return 0;
}

/* Conditions by argument index, reduced for the ABI; the index is the
 * order libseccomp tests them in. */
static unsigned reduce_conds(const struct scmp_arg_cmp *in, unsigned n, bool wide, bool skip_arg0,
                             Cond *ret) {
        unsigned k = 0;

        for (unsigned arg = 0; arg < 6; arg++)
                for (unsigned i = 0; i < n; i++)
                        if (in[i].arg == arg && !(skip_arg0 && arg == 0) && cond_reduce(&in[i], wide, &ret[k]))
                                k++;
        return k;
}

static int x86_multiplexed_index(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(x86_multiplexed); i++)
                if (strcmp(x86_multiplexed[i].name, name) == 0)
                        return (int) i;
        return -1;
}

int seccomp_bpf_add_rule(SeccompBpf *b, const char *name, uint32_t action,
                         const struct scmp_arg_cmp *conds, unsigned n_conds) {
        bool seen[6] = {};
        int r;

        if (n_conds > 6)
                return -EINVAL;
        for (unsigned i = 0; i < n_conds; i++) {
                if (conds[i].arg >= 6 || seen[conds[i].arg] || conds[i].op <= _SCMP_CMP_MIN ||
                    conds[i].op >= _SCMP_CMP_MAX)
                        return -EINVAL;
                seen[conds[i].arg] = true;
        }
        for (size_t a = 0; a < b->n_arches; a++) {
                uint32_t scmp = b->arches[a].scmp;
                uint8_t section = b->arches[a].section;
                Cond reduced[7];
                unsigned n;
                int mux = scmp == SCMP_ARCH_X86 ? x86_multiplexed_index(name) : -1;
                int nr;

                if (mux >= 0) {
                        int pseudo = seccomp_syscall_resolve_name_arch(scmp, name);
                        bool socket = pseudo <= -100 && pseudo >= -120;

                        if (!socket && !(pseudo <= -200 && pseudo >= -224))
                                return -EINVAL; /* libseccomp's tables changed under us */
                        /* socketcall/ipc with its call number in argument 0 */
                        reduced[0] = (Cond){ .arg = 0, .op = SCMP_CMP_EQ, .mask = UINT32_MAX,
                                             .datum = (uint64_t) ((-pseudo) % (socket ? 100 : 200)) };
                        n = 1 + reduce_conds(conds, n_conds, false, true, reduced + 1);
                        r = entry_add(b, socket ? X86_NR_SOCKETCALL : X86_NR_IPC, section, action, reduced, n);
                        if (r < 0)
                                return r;
                        /* no direct call: libseccomp keeps the pseudo number */
                        nr = x86_multiplexed[mux].direct ?: pseudo;
                } else {
                        /* a negative (pseudo) number: a name this ABI lacks */
                        nr = seccomp_syscall_resolve_name_arch(scmp, name);
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                }
                n = reduce_conds(conds, n_conds, b->arches[a].wide, false, reduced);
                r = entry_add(b, nr, section, action, reduced, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- code generation ------------------------------------------------- */

static int emit(Code *c, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 64;
                struct sock_filter *v = realloc(c->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->cap = cap;
        }
        c->v[c->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
        return 0;
}

static int append(Code *c, const Code *tail) {
        for (size_t i = 0; i < tail->n; i++) {
                int r = emit(c, tail->v[i].code, tail->v[i].jt, tail->v[i].jf, tail->v[i].k);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define LD(off) (BPF_LD | BPF_W | BPF_ABS), 0, 0, (off)
#define RET(k) (BPF_RET | BPF_K), 0, 0, (k)

/* The jump offset meaning "to the end of this rule": patched once the
 * rule's length is known. Real offsets here never reach it. */
#define FAIL 0xff

/* One 32-bit comparison of the loaded word: jump on true/false, where 0
 * continues with the next test and FAIL abandons the rule. */
static int emit_test(Code *c, uint32_t op, uint32_t k, uint8_t on_true, uint8_t on_false) {
        return emit(c, BPF_JMP | op | BPF_K, on_true, on_false, k);
}

static int emit_half(Code *c, uint32_t offset, uint32_t mask) {
        int r = emit(c, LD(offset));
        if (r >= 0 && mask != UINT32_MAX)
                r = emit(c, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
        return r;
}

static int emit_cond(Code *c, const Cond *d) {
        uint32_t lo = (uint32_t) d->datum, hi = (uint32_t) (d->datum >> 32);
        uint32_t mlo = (uint32_t) d->mask, mhi = (uint32_t) (d->mask >> 32);
        int r = 0;

        if (!d->wide) {
                r = emit_half(c, OFFSET_ARG_LO(d->arg), mlo);
                if (r < 0)
                        return r;
                switch (d->op) {
                case SCMP_CMP_EQ:
                case SCMP_CMP_MASKED_EQ: return emit_test(c, BPF_JEQ, lo, 0, FAIL);
                case SCMP_CMP_NE: return emit_test(c, BPF_JEQ, lo, FAIL, 0);
                case SCMP_CMP_GT: return emit_test(c, BPF_JGT, lo, 0, FAIL);
                case SCMP_CMP_GE: return emit_test(c, BPF_JGE, lo, 0, FAIL);
                case SCMP_CMP_LT: return emit_test(c, BPF_JGE, lo, FAIL, 0);
                case SCMP_CMP_LE: return emit_test(c, BPF_JGT, lo, FAIL, 0);
                default: return -EINVAL;
                }
        }
        switch (d->op) {
        case SCMP_CMP_EQ:
        case SCMP_CMP_MASKED_EQ:
                /* a half with an empty mask always matches */
                if (mhi != 0) {
                        r = emit_half(c, OFFSET_ARG_HI(d->arg), mhi);
                        if (r >= 0)
                                r = emit_test(c, BPF_JEQ, hi, 0, FAIL);
                }
                if (r >= 0 && mlo != 0) {
                        r = emit_half(c, OFFSET_ARG_LO(d->arg), mlo);
                        if (r >= 0)
                                r = emit_test(c, BPF_JEQ, lo, 0, FAIL);
                }
                return r;
        case SCMP_CMP_NE: /* high halves differ, or the low ones do */
                r = emit_half(c, OFFSET_ARG_HI(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, BPF_JEQ, hi, 0, 2);
                if (r >= 0)
                        r = emit_half(c, OFFSET_ARG_LO(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, BPF_JEQ, lo, FAIL, 0);
                return r;
        case SCMP_CMP_GT:
        case SCMP_CMP_GE: /* high greater, or high equal and low greater (or equal) */
                r = emit_half(c, OFFSET_ARG_HI(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, BPF_JGT, hi, 3, 0);
                if (r >= 0)
                        r = emit_test(c, BPF_JEQ, hi, 0, FAIL);
                if (r >= 0)
                        r = emit_half(c, OFFSET_ARG_LO(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, d->op == SCMP_CMP_GT ? BPF_JGT : BPF_JGE, lo, 0, FAIL);
                return r;
        case SCMP_CMP_LT:
        case SCMP_CMP_LE: /* high less, or high equal and low less (or equal) */
                r = emit_half(c, OFFSET_ARG_HI(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, BPF_JGT, hi, FAIL, 0);
                if (r >= 0)
                        r = emit_test(c, BPF_JEQ, hi, 0, 2);
                if (r >= 0)
                        r = emit_half(c, OFFSET_ARG_LO(d->arg), UINT32_MAX);
                if (r >= 0)
                        r = emit_test(c, d->op == SCMP_CMP_LT ? BPF_JGE : BPF_JGT, lo, FAIL, 0);
                return r;
        default:
                return -EINVAL;
        }
}

/* A rule with conditions: its tests, then its action; a failed test jumps
 * past the action to whatever follows (the next rule, or the default). */
static int emit_rule(Code *c, const Entry *e) {
        size_t start = c->n;
        int r;

        for (unsigned i = 0; i < e->n_conds; i++) {
                r = emit_cond(c, &e->conds[i]);
                if (r < 0)
                        return r;
        }
        r = emit(c, RET(e->action));
        if (r < 0)
                return r;
        for (size_t i = start; i < c->n; i++) {
                size_t past_end = c->n - i - 1;

                if (BPF_CLASS(c->v[i].code) != BPF_JMP)
                        continue;
                if (past_end >= FAIL)
                        return -E2BIG;
                if (c->v[i].jt == FAIL)
                        c->v[i].jt = (uint8_t) past_end;
                if (c->v[i].jf == FAIL)
                        c->v[i].jf = (uint8_t) past_end;
        }
        return 0;
}

typedef struct Leaf {
        uint32_t nr;
        const Entry *first; /* the syscall's entries, in order of addition */
        size_t n;
        const Entry *decides; /* the first rule without conditions, or NULL */
} Leaf;

/* What the kernel does once the syscall number matched. */
static int emit_leaf(SeccompBpf *b, Code *c, const Leaf *l) {
        int r;

        if (l->decides)
                return emit(c, RET(l->decides->action));
        for (size_t i = 0; i < l->n; i++) {
                const Entry *e = &l->first[i];

                /* several rules: only equality tests of one argument merge
                 * in libseccomp the way they read (ranges do not) */
                if (l->n > 1 && (e->n_conds != 1 || e->conds[0].arg != l->first[0].conds[0].arg ||
                                 (e->conds[0].op != SCMP_CMP_EQ && e->conds[0].op != SCMP_CMP_MASKED_EQ)))
                        return -EOPNOTSUPP;
                r = emit_rule(c, e);
                if (r < 0)
                        return r;
        }
        return emit(c, RET(b->default_action));
}

/* Jump over `skip` instructions when the test is false, into them when it
 * is true; a ja carries jumps longer than a conditional can. */
static int emit_guard(Code *c, uint32_t op, uint32_t k, size_t skip, bool into_on_true) {
        int r;

        if (skip <= 255)
                return into_on_true ? emit_test(c, op, k, 0, (uint8_t) skip)
                                    : emit_test(c, op, k, (uint8_t) skip, 0);
        r = into_on_true ? emit_test(c, op, k, 1, 0) : emit_test(c, op, k, 0, 1);
        if (r >= 0)
                r = emit(c, BPF_JMP | BPF_JA, 0, 0, (uint32_t) skip);
        return r;
}

/* Syscall numbers split into ranges of one verdict: a run of numbers with
 * the same unconditional action (the default's included) is one range; a
 * syscall with conditions is a range of its own. */
typedef struct Range {
        uint32_t start;
        const Leaf *leaf; /* conditions to test, or NULL: */
        uint32_t action;  /* the range's action */
} Range;

/* Binary search over the ranges, the accumulator holding nr. */
static int emit_tree(SeccompBpf *b, Code *c, const Range *ranges, size_t n) {
        _cleanup_(code_done) Code left = {}, right = {};
        size_t mid = n / 2;
        int r;

        if (n == 1)
                return ranges[0].leaf ? emit_leaf(b, c, ranges[0].leaf) : emit(c, RET(ranges[0].action));
        r = emit_tree(b, &left, ranges, mid);
        if (r >= 0)
                r = emit_tree(b, &right, ranges + mid, n - mid);
        /* nr >= the middle range's start: the right half */
        if (r >= 0)
                r = emit_guard(c, BPF_JGE, ranges[mid].start, left.n, false);
        if (r >= 0)
                r = append(c, &left);
        if (r >= 0)
                r = append(c, &right);
        return r;
}

static void range_add(Range *ranges, size_t *n, uint32_t start, const Leaf *leaf, uint32_t action) {
        /* a run of one action grows the range before it */
        if (!leaf && *n > 0 && !ranges[*n - 1].leaf && ranges[*n - 1].action == action)
                return;
        ranges[(*n)++] = (Range){ .start = start, .leaf = leaf, .action = action };
}

static int compare_entries(const void *x, const void *y) {
        const Entry *a = x, *b = y;

        if (a->section != b->section)
                return a->section < b->section ? -1 : 1;
        if (a->nr != b->nr)
                return a->nr < b->nr ? -1 : 1;
        return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int emit_section(SeccompBpf *b, Code *c, const Section *s, const Entry *e, size_t n, bool tree) {
        _cleanup_free_ Leaf *leaves = calloc(n ? n : 1, sizeof(Leaf));
        _cleanup_free_ Range *ranges = calloc(2 * n + 1, sizeof(Range));
        size_t n_leaves = 0, n_ranges = 0;
        uint64_t next = 0; /* the first number no range covers yet */
        int r;

        if (!leaves || !ranges)
                return -ENOMEM;
        /* libseccomp's list (no tree) loads the syscall number with its
         * first entry, and loses the load when that is a pseudo syscall;
         * x86_64 or x32 alone load it for their ABI check first */
        if (!tree && s->pseudo && s->x86_64 == s->x32)
                return -EOPNOTSUPP;
        for (size_t i = 0; i < n;) {
                Leaf *l = &leaves[n_leaves++];

                *l = (Leaf){ .nr = e[i].nr, .first = &e[i] };
                for (; i < n && e[i].nr == l->nr; i++) {
                        l->n++;
                        if (!l->decides && e[i].n_conds == 0)
                                l->decides = &e[i];
                }
                /* conditional rules of different actions before the one that
                 * decides: libseccomp may refuse them (-EEXIST), or merge */
                for (const Entry *x = l->first; x < l->first + l->n && x != l->decides; x++)
                        if (x->action != l->first->action)
                                return -EOPNOTSUPP;
                if (l->first->pseudo) {
                        n_leaves--;
                        continue;
                }
                if (l->nr > next)
                        range_add(ranges, &n_ranges, (uint32_t) next, NULL, b->default_action);
                range_add(ranges, &n_ranges, l->nr, l->decides ? NULL : l,
                          l->decides ? l->decides->action : 0);
                next = (uint64_t) l->nr + 1;
        }
        if (next <= UINT32_MAX)
                range_add(ranges, &n_ranges, (uint32_t) next, NULL, b->default_action);

        r = emit(c, LD(OFFSET_NR));
        if (r < 0)
                return r;
        if (s->x86_64 && !s->x32) {
                /* x32 numbers are another ABI's, except -1 (a tracer's skip) */
                r = emit_test(c, BPF_JGE, X32_SYSCALL_BIT, 0, 2);
                if (r >= 0)
                        r = emit_test(c, BPF_JEQ, UINT32_MAX, 1, 0);
                if (r >= 0)
                        r = emit(c, RET(b->badarch_action));
        } else if (s->x32 && !s->x86_64) {
                r = emit_test(c, BPF_JGE, X32_SYSCALL_BIT, 1, 0);
                if (r >= 0)
                        r = emit(c, RET(b->badarch_action));
        }
        if (r < 0)
                return r;
        return emit_tree(b, c, ranges, n_ranges);
}

int seccomp_bpf_build(SeccompBpf *b, bool tree, const struct sock_filter **ret, size_t *ret_n) {
        Code *c = &b->program;
        size_t i = 0;
        int r;

        if (c->n > 0 && b->built_as_tree == tree)
                goto done;
        code_done(c);
        b->built_as_tree = tree;
        if (b->n_entries > 0)
                qsort(b->entries, b->n_entries, sizeof(Entry), compare_entries);
        r = emit(c, LD(OFFSET_ARCH));
        for (size_t s = 0; r >= 0 && s < b->n_sections; s++) {
                _cleanup_(code_done) Code body = {};
                size_t first = i;

                while (i < b->n_entries && b->entries[i].section == s)
                        i++;
                r = emit_section(b, &body, &b->sections[s], i > first ? b->entries + first : NULL, i - first,
                                 tree);
                if (r >= 0)
                        r = emit_guard(c, BPF_JEQ, b->sections[s].audit, body.n, true);
                if (r >= 0)
                        r = append(c, &body);
        }
        if (r >= 0)
                r = emit(c, RET(b->badarch_action));
        if (r >= 0 && c->n > BPF_MAX_INSNS)
                r = -E2BIG;
        if (r < 0) {
                code_done(c);
                return r;
        }
done:
        *ret = c->v;
        *ret_n = c->n;
        return 0;
}

/* ---- checks and interpreter ------------------------------------------- */

int seccomp_bpf_check(const struct sock_filter *prog, size_t n) {
        if (n == 0 || n > BPF_MAX_INSNS)
                return -EINVAL;
        for (size_t pc = 0; pc < n; pc++) {
                const struct sock_filter *f = &prog[pc];

                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (f->k % 4 != 0 || f->k >= OFFSET_ARG_HI(5) + 4)
                                return -EINVAL;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                case BPF_RET | BPF_K:
                        break;
                case BPF_JMP | BPF_JA:
                        if (f->k >= n - pc - 1)
                                return -EINVAL;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                case BPF_JMP | BPF_JGT | BPF_K:
                case BPF_JMP | BPF_JGE | BPF_K:
                case BPF_JMP | BPF_JSET | BPF_K:
                        if ((size_t) f->jt >= n - pc - 1 || (size_t) f->jf >= n - pc - 1)
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return BPF_CLASS(prog[n - 1].code) == BPF_RET ? 0 : -EINVAL;
}

int seccomp_bpf_run(const struct sock_filter *prog, size_t n, const SeccompBpfInput *in, uint32_t *ret) {
        uint32_t data[16] = { in->nr, in->arch, 0, 0 };
        uint32_t a = 0;
        bool read_args = false;

        for (size_t i = 0; i < 6; i++) {
                data[4 + 2 * i] = (uint32_t) in->args[i];
                data[5 + 2 * i] = (uint32_t) (in->args[i] >> 32);
        }
        for (size_t pc = 0; pc < n; pc++) {
                const struct sock_filter *f = &prog[pc];
                bool taken;

                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (f->k % 4 != 0 || f->k >= sizeof(data))
                                return -EINVAL;
                        a = data[f->k / 4];
                        read_args = read_args || f->k >= 16;
                        continue;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= f->k;
                        continue;
                case BPF_RET | BPF_K:
                        *ret = f->k;
                        return read_args;
                case BPF_JMP | BPF_JA:
                        if (f->k >= n - pc - 1)
                                return -EINVAL;
                        pc += f->k;
                        continue;
                case BPF_JMP | BPF_JEQ | BPF_K: taken = a == f->k; break;
                case BPF_JMP | BPF_JGT | BPF_K: taken = a > f->k; break;
                case BPF_JMP | BPF_JGE | BPF_K: taken = a >= f->k; break;
                case BPF_JMP | BPF_JSET | BPF_K: taken = (a & f->k) != 0; break;
                default: return -EINVAL;
                }
                if ((size_t) (taken ? f->jt : f->jf) >= n - pc - 1)
                        return -EINVAL;
                pc += taken ? f->jt : f->jf;
        }
        return -EINVAL; /* fell off the end */
}
