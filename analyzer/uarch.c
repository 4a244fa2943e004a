/* Microarchitecture tables and the static cycle bounds (Facile/uiCA style:
 * the maximum of independent throughput bounds, plus the loop-carried
 * dependency chain for loops).
 *
 * Every figure carries its public source. Abbreviations:
 *  [AF-IT]  Agner Fog, "Instruction tables", 2024-ed. (www.agner.org/optimize/instruction_tables.pdf)
 *  [AF-MA]  Agner Fog, "The microarchitecture of Intel, AMD and VIA CPUs", 2024-ed.
 *  [UOPS]   uops.info instruction tables (measured latency/throughput per microarchitecture)
 *  [AMD-Z4] AMD, "Software Optimization Guide for the AMD Zen4 Microarchitecture", pub. 57647 rev 3.06
 *  [AMD-Z5] AMD, "Software Optimization Guide for the AMD Zen5 Microarchitecture", pub. 58455 rev 1.00
 *  [INTEL]  Intel 64 and IA-32 Architectures Optimization Reference Manual (248966-046), ch. 2.2 Skylake
 * Values are per operation of the class for its common register form (e.g.
 * int_mul = imul r64,r64; int_div = div r64 midpoint of the data-dependent range).
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define G_INT 0
#define G_FP 1
#define G_BRANCH 2
#define G_MISC 3

#define C(cls, lat, rtp, grp) [PV_MIX_##cls] = {lat, rtp, grp}
typedef struct cost3 {
    float lat, rtp;
    uint8_t grp;
} cost3;

typedef struct uarch_def {
    const char *name, *desc;
    float issue, loads, stores, load_lat;
    cost3 c[PV_MIX_NCLASSES];
} uarch_def;

static const uarch_def defs[] = {
    {"zen4", "AMD Zen 4 (Ryzen 7000, EPYC 9004)",
     6.0f,  /* 6 macro-ops dispatched per cycle [AMD-Z4 2.3] */
     3.0f,  /* 3 memory ops per cycle, up to 3 loads [AMD-Z4 2.12] */
     2.0f,  /* up to 2 stores per cycle [AMD-Z4 2.12] */
     4.0f,  /* 4-cycle integer load-to-use latency, L1 hit [AMD-Z4 2.12; AF-MA 22.16] */
     {
         C(INT_ALU, 1, 0.25f, G_INT),     /* add r,r: lat 1, 4 ALUs [AF-IT Zen4] */
         C(INT_MUL, 3, 1.0f, G_INT),      /* imul r64,r64: lat 3, tp 1 [AF-IT Zen4; UOPS] */
         C(INT_DIV, 14, 7.0f, G_INT),     /* div r64: lat 10-18, rtp 7 [AF-IT Zen4] */
         C(FP_ADD, 3, 0.5f, G_FP),        /* addsd: lat 3, 2 FADD pipes [AF-IT Zen4; AMD-Z4 2.11] */
         C(FP_MUL, 3, 0.5f, G_FP),        /* mulsd: lat 3, 2 FMUL pipes [AF-IT Zen4] */
         C(FP_FMA, 4, 0.5f, G_FP),        /* vfmadd231sd: lat 4, tp 2 [AF-IT Zen4; UOPS] */
         C(FP_DIVSQRT, 14, 5.0f, G_FP),   /* divsd lat 13-14 rtp 4.5; sqrtsd lat 15-20 rtp 6 [AF-IT Zen4] */
         C(SIMD_INT_128, 1, 0.25f, G_FP), /* paddd xmm: lat 1, 4 vector ALUs [AF-IT Zen4] */
         C(SIMD_INT_256, 1, 0.25f, G_FP), /* vpaddd ymm: lat 1, 4 pipes, 256-bit datapath [AMD-Z4 2.11] */
         C(SIMD_INT_512, 1, 0.5f, G_FP),  /* vpaddd zmm: double-pumped 256-bit halves [AMD-Z4 2.11; UOPS] */
         C(SIMD_FP_128, 3, 0.5f, G_FP),   /* addpd/mulpd xmm: lat 3, 2 pipes [AF-IT Zen4] */
         C(SIMD_FP_256, 3, 0.5f, G_FP),   /* vaddpd/vfmadd ymm: lat 3-4, 2 per cycle [AF-IT Zen4] */
         C(SIMD_FP_512, 4, 1.0f, G_FP),   /* vfmadd231pd zmm: lat 4, 1 per cycle (2x256) [UOPS Zen4] */
         C(LOAD, 4, 0.33f, G_MISC),       /* covered by load_ports; latency = load_latency */
         C(STORE, 1, 0.5f, G_MISC),       /* covered by store_ports */
         C(BRANCH_COND, 1, 0.5f, G_BRANCH), /* 2 branch units, 2 taken per cycle [AMD-Z4 2.8] */
         C(JUMP, 1, 0.5f, G_BRANCH),      /* jmp rel: tp 2 [AF-IT Zen4] */
         C(CALL, 2, 2.0f, G_BRANCH),      /* call: rtp 2 [AF-IT Zen4] */
         C(RET, 2, 2.0f, G_BRANCH),       /* ret: rtp 2 [AF-IT Zen4] */
         C(STRING, 3, 3.0f, G_INT),       /* movs/stos without rep: ~3 cycles each; rep start-up not modeled [AF-IT Zen4] */
         C(ATOMIC, 8, 8.0f, G_INT),       /* lock add/xchg m,r: lat ~8, rtp ~8 [AF-IT Zen4] */
         C(CRYPTO, 4, 0.5f, G_FP),        /* aesenc lat 4 tp 2; pclmulqdq lat 4 tp 1 [AF-IT Zen4] */
         C(SYSCALL, 100, 100.0f, G_MISC), /* syscall round trip, order of 100 cycles (kernel work excluded) [AF-MA] */
         C(OTHER, 1, 0.25f, G_INT),       /* nop/endbr/cpuid-class: nops retire at dispatch width [AF-IT Zen4] */
     }},
    {"zen5", "AMD Zen 5 (Ryzen 9000, EPYC 9005)",
     8.0f,  /* 8 macro-ops dispatched per cycle [AMD-Z5 2.1] */
     4.0f,  /* 4 memory ops per cycle, up to 4 loads [AMD-Z5 2.12] */
     2.0f,  /* up to 2 stores per cycle [AMD-Z5 2.12] */
     4.0f,  /* 4-cycle integer load-to-use latency [AMD-Z5 2.12] */
     {
         C(INT_ALU, 1, 0.1667f, G_INT),   /* 6 integer ALUs [AMD-Z5 2.10] */
         C(INT_MUL, 3, 0.5f, G_INT),      /* imul r64: lat 3, 2 multipliers [AMD-Z5 2.10; UOPS Zen5] */
         C(INT_DIV, 14, 7.0f, G_INT),     /* div r64: as Zen 4 [UOPS Zen5] */
         C(FP_ADD, 2, 0.5f, G_FP),        /* FADD latency reduced to 2 cycles [AMD-Z5 2.11] */
         C(FP_MUL, 3, 0.5f, G_FP),        /* mulsd: lat 3, 2 pipes [AMD-Z5 2.11] */
         C(FP_FMA, 4, 0.5f, G_FP),        /* FMA lat 4, 2 pipes [AMD-Z5 2.11] */
         C(FP_DIVSQRT, 13, 5.0f, G_FP),   /* divsd lat 13 [UOPS Zen5] */
         C(SIMD_INT_128, 1, 0.25f, G_FP), /* 4 vector integer pipes [AMD-Z5 2.11] */
         C(SIMD_INT_256, 1, 0.25f, G_FP),
         C(SIMD_INT_512, 1, 0.25f, G_FP), /* full 512-bit datapath on desktop/server Zen 5 [AMD-Z5 2.11] */
         C(SIMD_FP_128, 3, 0.5f, G_FP),
         C(SIMD_FP_256, 3, 0.5f, G_FP),
         C(SIMD_FP_512, 4, 0.5f, G_FP),   /* 2 x 512-bit FMA per cycle [AMD-Z5 2.11] */
         C(LOAD, 4, 0.25f, G_MISC),
         C(STORE, 1, 0.5f, G_MISC),
         C(BRANCH_COND, 1, 0.5f, G_BRANCH), /* 2 taken branches per cycle [AMD-Z5 2.8] */
         C(JUMP, 1, 0.5f, G_BRANCH),
         C(CALL, 2, 2.0f, G_BRANCH),      /* as Zen 4 [AF-IT] */
         C(RET, 2, 2.0f, G_BRANCH),
         C(STRING, 3, 3.0f, G_INT),
         C(ATOMIC, 8, 8.0f, G_INT),       /* as Zen 4 [AF-IT] */
         C(CRYPTO, 4, 0.5f, G_FP),        /* aesenc: 2 pipes [UOPS Zen5] */
         C(SYSCALL, 100, 100.0f, G_MISC),
         C(OTHER, 1, 0.125f, G_INT),
     }},
    {"skylake", "Intel Skylake client (Core 6th-10th gen); also used for later Intel cores",
     4.0f,  /* 4 uops renamed/allocated per cycle [INTEL 2.2; AF-MA 11.8] */
     2.0f,  /* 2 loads per cycle, ports 2 and 3 [INTEL 2.2.2] */
     1.0f,  /* 1 store per cycle, port 4 [INTEL 2.2.2] */
     5.0f,  /* 5-cycle load-to-use (4 for simple addressing) [INTEL 2.2.5; AF-MA 11.10] */
     {
         C(INT_ALU, 1, 0.25f, G_INT),     /* add: p0156 [AF-IT Skylake; UOPS SKL] */
         C(INT_MUL, 3, 1.0f, G_INT),      /* imul r64,r64: lat 3, p1 [AF-IT Skylake] */
         C(INT_DIV, 42, 24.0f, G_INT),    /* div r64: lat 35-88, rtp 21-83 [AF-IT Skylake] */
         C(FP_ADD, 4, 0.5f, G_FP),        /* addsd: lat 4, p01 [AF-IT Skylake] */
         C(FP_MUL, 4, 0.5f, G_FP),        /* mulsd: lat 4, p01 [AF-IT Skylake] */
         C(FP_FMA, 4, 0.5f, G_FP),        /* vfmadd: lat 4, p01 [AF-IT Skylake] */
         C(FP_DIVSQRT, 14, 4.0f, G_FP),   /* divsd lat 13-14 rtp 4; sqrtsd lat 15-16 rtp 4-6 [AF-IT Skylake] */
         C(SIMD_INT_128, 1, 0.33f, G_FP), /* paddd: p015 [AF-IT Skylake] */
         C(SIMD_INT_256, 1, 0.33f, G_FP),
         C(SIMD_INT_512, 1, 0.5f, G_FP),  /* Skylake-SP: p05 for zmm [UOPS SKX] */
         C(SIMD_FP_128, 4, 0.5f, G_FP),
         C(SIMD_FP_256, 4, 0.5f, G_FP),
         C(SIMD_FP_512, 4, 1.0f, G_FP),   /* Skylake-SP one-FMA-unit parts: 1 per cycle [UOPS SKX] */
         C(LOAD, 5, 0.5f, G_MISC),
         C(STORE, 1, 1.0f, G_MISC),
         C(BRANCH_COND, 1, 0.5f, G_BRANCH), /* p06, taken only on p6 [AF-IT Skylake] */
         C(JUMP, 1, 1.0f, G_BRANCH),      /* jmp: p6 [AF-IT Skylake] */
         C(CALL, 2, 2.0f, G_BRANCH),      /* call: rtp 2-3 [AF-IT Skylake] */
         C(RET, 2, 1.0f, G_BRANCH),       /* ret: rtp 1 [AF-IT Skylake] */
         C(STRING, 3, 3.0f, G_INT),       /* movs/stos: ~3-4 uops each [AF-IT Skylake] */
         C(ATOMIC, 18, 18.0f, G_INT),     /* lock add m,r / xchg m,r: ~18 cycles [AF-IT Skylake] */
         C(CRYPTO, 4, 1.0f, G_FP),        /* aesenc lat 4 rtp 1 [AF-IT Skylake] */
         C(SYSCALL, 100, 100.0f, G_MISC),
         C(OTHER, 1, 0.25f, G_INT),
     }},
};
#define NDEFS (sizeof defs / sizeof defs[0])

static pv_uarch tables[NDEFS];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    static const char *const gnames[] = {"int", "fp", "branch", "misc"};
    static const float gunits_zen4[] = {4, 4, 2, 1}, gunits_zen5[] = {6, 4, 2, 1}, gunits_skl[] = {4, 3, 2, 1};
    for (size_t i = 0; i < NDEFS; i++) {
        pv_uarch *u = &tables[i];
        const uarch_def *d = &defs[i];
        memset(u, 0, sizeof *u);
        u->version = PV_UARCH_VERSION;
        snprintf(u->name, sizeof u->name, "%s", d->name);
        snprintf(u->description, sizeof u->description, "%s", d->desc);
        u->issue_width = d->issue;
        u->load_ports = d->loads;
        u->store_ports = d->stores;
        u->load_latency = d->load_lat;
        for (int c = 0; c < PV_MIX_NCLASSES; c++) {
            u->latency[c] = d->c[c].lat;
            u->rthroughput[c] = d->c[c].rtp;
            u->group[c] = d->c[c].grp;
        }
        const float *units = !strcmp(d->name, "zen5") ? gunits_zen5 : !strcmp(d->name, "skylake") ? gunits_skl : gunits_zen4;
        u->ngroups = 4;
        for (int g = 0; g < 4; g++) {
            snprintf(u->groups[g].name, sizeof u->groups[g].name, "%s", gnames[g]);
            u->groups[g].units = units[g];
        }
    }
}

size_t pv_uarch_count(void) { return NDEFS; }

const pv_uarch *pv_uarch_at(size_t i)
{
    pthread_once(&tables_once, build_tables);
    return i < NDEFS ? &tables[i] : NULL;
}

const pv_uarch *pv_uarch_find(const char *name)
{
    pthread_once(&tables_once, build_tables);
    for (size_t i = 0; name && i < NDEFS; i++)
        if (!strcasecmp(tables[i].name, name))
            return &tables[i];
    char known[128] = "";
    for (size_t i = 0; i < NDEFS; i++) {
        strncat(known, tables[i].name, sizeof known - strlen(known) - 3);
        if (i + 1 < NDEFS)
            strcat(known, ", ");
    }
    pv_error_set(PV_ERR_NOTFOUND, "unknown microarchitecture '%s'; known: %s", name ? name : "(null)", known);
    return NULL;
}

const pv_uarch *pv_uarch_host(void)
{
    unsigned a, b, c, d;
    const char *name = "zen4";
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        char vendor[13];
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
        vendor[12] = 0;
        if (__get_cpuid(1, &a, &b, &c, &d)) {
            unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
            if (fam == 0xf)
                fam += (a >> 20) & 0xff;
            if (fam == 0x6 || fam == 0xf)
                model |= ((a >> 16) & 0xf) << 4;
            if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
                /* Family 1Ah is Zen 5; 19h is Zen 3/4 (Zen 4 is the closer table for both). */
                name = fam >= 0x1a ? "zen5" : "zen4";
            else if (!strcmp(vendor, "GenuineIntel"))
                name = "skylake";
        }
    }
    return pv_uarch_find(name);
}

float pv_uarch_block_cycles(const pv_uarch *u, const pv_mix *mix, uint32_t ninsns)
{
    return pv_uarch_block_cycles_moves(u, mix, ninsns, 0);
}

float pv_uarch_block_cycles_moves(const pv_uarch *u, const pv_mix *mix, uint32_t ninsns, uint32_t nmoves)
{
    if (!u || !mix)
        return 0;
    /* Eliminated moves still pass through issue/rename: ninsns keeps them. */
    float best = u->issue_width > 0 ? (float)ninsns / u->issue_width : 0;
    float grp[PV_UARCH_MAX_GROUPS] = {0};
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        uint32_t n = mix->n[c];
        if (c == PV_MIX_INT_ALU)
            n -= nmoves < n ? nmoves : n;
        if (c == PV_MIX_LOAD || c == PV_MIX_STORE || !n)
            continue;
        unsigned g = u->group[c] < PV_UARCH_MAX_GROUPS ? u->group[c] : 0;
        grp[g] += (float)n * u->rthroughput[c];
    }
    for (int g = 0; g < PV_UARCH_MAX_GROUPS; g++)
        if (grp[g] > best)
            best = grp[g];
    if (u->load_ports > 0 && mix->n[PV_MIX_LOAD] / u->load_ports > best)
        best = mix->n[PV_MIX_LOAD] / u->load_ports;
    if (u->store_ports > 0 && mix->n[PV_MIX_STORE] / u->store_ports > best)
        best = mix->n[PV_MIX_STORE] / u->store_ports;
    return best;
}

_Static_assert(X86_REG_ENDING <= 256, "canonical registers must fit in a byte");

int pva_dep_of(pv_decoder *d, const pv_insn *in, const pv_uarch *u, pva_dep *out)
{
    const cs_insn *ci = d->insn;
    const cs_x86 *x = &ci->detail->x86;
    cs_regs rr, ww;
    uint8_t nrr = 0, nww = 0;
    memset(out, 0, sizeof *out);
    if (cs_regs_access(d->cs, ci, rr, &nrr, ww, &nww) != CS_ERR_OK)
        return 0;
    /* Zeroing idioms (xor r,r; sub r,r; pxor x,x) do not depend on their input. */
    int zero_idiom = x->op_count == 2 && x->operands[0].type == X86_OP_REG && x->operands[1].type == X86_OP_REG &&
                     x->operands[0].reg == x->operands[1].reg &&
                     (ci->id == X86_INS_XOR || ci->id == X86_INS_SUB || ci->id == X86_INS_PXOR ||
                      ci->id == X86_INS_XORPS || ci->id == X86_INS_XORPD);
    int addr_regs[4], naddr = 0;
    for (int i = 0; i < x->op_count && naddr < 3; i++)
        if (x->operands[i].type == X86_OP_MEM) {
            if (x->operands[i].mem.base != X86_REG_INVALID)
                addr_regs[naddr++] = pva_canon_reg(x->operands[i].mem.base);
            if (x->operands[i].mem.index != X86_REG_INVALID)
                addr_regs[naddr++] = pva_canon_reg(x->operands[i].mem.index);
        }
    for (int i = 0; i < nrr && !zero_idiom && out->nr < PVA_DEP_MAXR; i++) {
        int c = pva_canon_reg(rr[i]);
        if (c == X86_REG_RSP || c == X86_REG_RIP || c >= X86_REG_ENDING)
            continue;
        int is_addr = 0;
        for (int j = 0; j < naddr; j++)
            is_addr |= addr_regs[j] == c;
        if (is_addr && in->nloads)
            out->addrbits |= (uint16_t)(1u << out->nr);
        out->r[out->nr++] = (uint8_t)c;
    }
    out->start_min = in->nloads && !naddr ? u->load_latency : 0;
    float lat = in->cls < PV_MIX_NCLASSES ? u->latency[in->cls] : 0;
    if (in->cls == PV_INSN_NOCLASS && !in->nloads)
        lat = in->nstores ? 0 : 1;
    /* Eliminated at rename: the destination names the source's physical register (decode.c). */
    if (in->flags & PV_INSN_MOVE_ELIM)
        lat = 0;
    out->lat = lat;
    for (int i = 0; i < nww && out->nw < PVA_DEP_MAXW; i++) {
        int c = pva_canon_reg(ww[i]);
        if (c == X86_REG_RSP || c == X86_REG_RIP || c >= X86_REG_ENDING)
            continue;
        out->w[out->nw++] = (uint8_t)c;
    }
    return 1;
}

/* One pass over the body: advance ready[] by each instruction's latency. */
static void chain_pass(const pva_dep *dep, uint32_t n, float load_latency, float *ready)
{
    for (uint32_t k = 0; k < n; k++) {
        const pva_dep *x = &dep[k];
        float start = x->start_min;
        for (int i = 0; i < x->nr; i++) {
            float t = ready[x->r[i]] + ((x->addrbits >> i) & 1 ? load_latency : 0);
            if (t > start)
                start = t;
        }
        for (int i = 0; i < x->nw; i++)
            ready[x->w[i]] = start + x->lat;
    }
}

float pva_recurrence(const pv_uarch *u, const pva_dep *dep, uint32_t n)
{
    float ready[256];
    float t2[256];
    memset(ready, 0, sizeof ready);
    /* Two warm-up passes, then two measured ones: the per-iteration growth
     * of the slowest register is the recurrence once the chains settle. */
    chain_pass(dep, n, u->load_latency, ready);
    chain_pass(dep, n, u->load_latency, ready);
    memcpy(t2, ready, sizeof t2);
    chain_pass(dep, n, u->load_latency, ready);
    chain_pass(dep, n, u->load_latency, ready);
    float best = 0;
    for (int i = 0; i < 256; i++) {
        float g = (ready[i] - t2[i]) / 2;
        if (g > best)
            best = g;
    }
    return best;
}
