/* x86-64 decoding with Capstone 5 into the instruction-mix classes of mix.h.
 *
 * Classification by mnemonic is done once per Capstone instruction id into a
 * table (kind_of[]); per instruction only the operands (memory access,
 * vector width), prefixes and groups are looked at. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Per-id kinds: what the mnemonic says. */
enum kind {
    K_OTHER = 0,
    K_INT_ALU,
    K_INT_MUL,
    K_INT_DIV,
    K_MOVE,     /* data move: only its memory access counts when it touches memory */
    K_VMOVE,    /* vector register move (movaps, vmovdqu...): a SIMD op between registers */
    K_LEA,      /* address arithmetic, no memory access */
    K_NOP,
    K_PUSH,
    K_POP,
    K_LEAVE,
    K_ENTER,
    K_XCHG,
    K_SCALAR_ADD, /* scalar (ss/sd) or packed: decided per instruction */
    K_SCALAR_MUL,
    K_SCALAR_FMA,
    K_SCALAR_DIVSQRT,
    K_SIMD_FP,
    K_SIMD_INT,
    K_X87_ADD,
    K_X87_MUL,
    K_X87_DIV,
    K_X87_MOVE,
    K_STRING,   /* movs/stos/...; movsd/cmpsd are checked for xmm operands */
    K_CRYPTO,
    K_SYSCALL,
    K_HALT,
    K_PREFETCH,
};

static uint8_t kind_of[X86_INS_ENDING];
static const char *name_of[X86_INS_ENDING];
static pthread_once_t kind_once = PTHREAD_ONCE_INIT;

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }
static int ends(const char *s, const char *p)
{
    size_t a = strlen(s), b = strlen(p);
    return a >= b && !strcmp(s + a - b, p);
}
static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

static const char *const int_alu_exact[] = {
    "add", "adc", "sub", "sbb", "and", "or", "xor", "not", "neg", "inc", "dec", "cmp", "test",
    "shl", "shr", "sar", "sal", "rol", "ror", "rcl", "rcr", "shld", "shrd", "bt", "bts", "btr", "btc",
    "bsf", "bsr", "lzcnt", "tzcnt", "popcnt", "bswap", "cwd", "cdq", "cqo", "cbw", "cwde", "cdqe",
    "andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "rorx", "sarx", "shlx", "shrx", "pdep", "pext",
    "xadd", "cmpxchg", "cmpxchg8b", "cmpxchg16b", "adcx", "adox", "clc", "stc", "cmc", "cld", "std",
    "lahf", "sahf", "salc", NULL};
static const char *const move_exact[] = {
    "mov", "movabs", "movzx", "movsx", "movsxd", "movbe", "movd", "movq", "movnti", "movntq",
    "movntdq", "movntdqa", "movntps", "movntpd", "movnti", "movss", "movsd", "movaps", "movups",
    "movapd", "movupd", "movdqa", "movdqu", "movhps", "movlps", "movhpd", "movlpd", "lddqu",
    "movddup", "movshdup", "movsldup", "movdq2q", "movq2dq", "maskmovq", "maskmovdqu",
    "movdqa32", "movdqa64", "movdqu8", "movdqu16", "movdqu32", "movdqu64", "movsh", "movw",
    "movhlps", "movlhps", NULL};
static const char *const other_exact[] = {
    "cpuid", "rdtsc", "rdtscp", "lfence", "mfence", "sfence", "pause", "xgetbv", "rdrand", "rdseed",
    "clflush", "clflushopt", "clwb", "endbr64", "endbr32", "wait", "emms", "femms", "vzeroupper",
    "vzeroall", "ldmxcsr", "stmxcsr", "vldmxcsr", "vstmxcsr", "fxsave", "fxrstor", "fxsave64",
    "fxrstor64", "xsave", "xrstor", "xsave64", "xrstor64", "xsavec", "xsaveopt", "rdpid", "rdpkru",
    "wrpkru", "cli", "sti", NULL};

static int classify_name(const char *n)
{
    if (!n || !*n)
        return K_OTHER;
    /* Control flow is taken from Capstone's groups at decode time. */
    if (!strcmp(n, "lea"))
        return K_LEA;
    if (starts(n, "nop") || !strcmp(n, "fnop"))
        return K_NOP;
    if (starts(n, "prefetch"))
        return K_PREFETCH;
    if (in_list(n, other_exact))
        return K_OTHER;
    if (!strcmp(n, "push") || starts(n, "pushf") || !strcmp(n, "pushal") || !strcmp(n, "pushaw"))
        return K_PUSH;
    if (!strcmp(n, "pop") || starts(n, "popf") || !strcmp(n, "popal") || !strcmp(n, "popaw"))
        return K_POP;
    if (!strcmp(n, "leave"))
        return K_LEAVE;
    if (!strcmp(n, "enter"))
        return K_ENTER;
    if (!strcmp(n, "xchg"))
        return K_XCHG;
    if (!strcmp(n, "syscall") || !strcmp(n, "sysenter") || !strcmp(n, "int") || !strcmp(n, "into") ||
        !strcmp(n, "int1"))
        return K_SYSCALL;
    if (!strcmp(n, "hlt") || !strcmp(n, "ud2") || !strcmp(n, "ud1") || !strcmp(n, "ud0") || !strcmp(n, "int3"))
        return K_HALT;
    if (!strcmp(n, "imul") || !strcmp(n, "mul") || !strcmp(n, "mulx"))
        return K_INT_MUL;
    if (!strcmp(n, "div") || !strcmp(n, "idiv"))
        return K_INT_DIV;
    if (in_list(n, int_alu_exact) || starts(n, "cmov") || starts(n, "set") || starts(n, "cmpxchg"))
        return K_INT_ALU;
    /* String instructions (movsd/cmpsd double as SSE: checked per instruction). */
    static const char *const str[] = {"movsb", "movsw", "movsd", "movsq", "stosb", "stosw", "stosd", "stosq",
                                      "lodsb", "lodsw", "lodsd", "lodsq", "cmpsb", "cmpsw", "cmpsd", "cmpsq",
                                      "scasb", "scasw", "scasd", "scasq", "insb", "insw", "insd", "outsb",
                                      "outsw", "outsd", NULL};
    if (in_list(n, str))
        return K_STRING;
    if (in_list(n, move_exact))
        return K_MOVE;
    /* x87 */
    if (n[0] == 'f') {
        if (starts(n, "fadd") || starts(n, "fiadd") || starts(n, "fsub") || starts(n, "fisub") ||
            starts(n, "fcom") || starts(n, "fucom") || starts(n, "ficom") || !strcmp(n, "fchs") ||
            !strcmp(n, "fabs") || !strcmp(n, "frndint"))
            return K_X87_ADD;
        if (starts(n, "fmul") || starts(n, "fimul") || !strcmp(n, "fscale"))
            return K_X87_MUL;
        if (starts(n, "fdiv") || starts(n, "fidiv") || !strcmp(n, "fsqrt") || !strcmp(n, "fprem") ||
            !strcmp(n, "fprem1"))
            return K_X87_DIV;
        if (!strcmp(n, "fld") || !strcmp(n, "fst") || !strcmp(n, "fstp") || !strcmp(n, "fild") ||
            starts(n, "fist") || !strcmp(n, "fbld") || !strcmp(n, "fbstp") || starts(n, "fld") ||
            starts(n, "fcmov") || !strcmp(n, "fxch"))
            return K_X87_MOVE;
        if (!starts(n, "fma") && !starts(n, "fms") && !starts(n, "fnm"))
            return K_OTHER;
    }
    /* Crypto. */
    const char *b = n[0] == 'v' ? n + 1 : n;
    if (starts(b, "aes") || starts(b, "sha1") || starts(b, "sha256") || starts(b, "pclmul") ||
        starts(b, "gf2p8"))
        return K_CRYPTO;
    /* SIMD and scalar SSE/AVX. */
    /* VMX and SVM (vmcall, vmrun...) and segment verification, not vector;
     * only these: vmovaps, vmulpd, vmaxps... are vector ops. */
    static const char *const vmx[] = {"verr", "verw", "vmcall", "vmclear", "vmfunc", "vmlaunch", "vmload",
                                      "vmmcall", "vmptrld", "vmptrst", "vmread", "vmresume", "vmrun",
                                      "vmsave", "vmwrite", "vmxoff", "vmxon", "vmgexit", NULL};
    if (in_list(n, vmx))
        return K_OTHER;
    if (in_list(b, move_exact) || starts(b, "movdq") || starts(b, "movap") || starts(b, "movup") ||
        starts(b, "movnt") || starts(b, "maskmov") || !strcmp(b, "lddqu") || starts(b, "pmaskmov") ||
        starts(b, "maskmov"))
        return K_VMOVE;
    if (starts(b, "fmadd") || starts(b, "fmsub") || starts(b, "fnmadd") || starts(b, "fnmsub") ||
        starts(b, "fmaddsub") || starts(b, "fmsubadd"))
        return K_SCALAR_FMA;
    if (starts(b, "div") || starts(b, "sqrt") || starts(b, "rsqrt") || starts(b, "rcp"))
        return K_SCALAR_DIVSQRT;
    if (starts(b, "mul"))
        return K_SCALAR_MUL;
    if (b[0] == 'p' && !starts(b, "pause"))
        return K_SIMD_INT;
    if (starts(b, "add") || starts(b, "sub") || starts(b, "min") || starts(b, "max") || starts(b, "cmp") ||
        starts(b, "comi") || starts(b, "ucomi") || starts(b, "cvt") || starts(b, "round") ||
        starts(b, "hadd") || starts(b, "hsub") || starts(b, "dp") || starts(b, "and") || starts(b, "or") ||
        starts(b, "xor") || starts(b, "shuf") || starts(b, "unpck") || starts(b, "blend") ||
        starts(b, "movmsk") || starts(b, "extractps") || starts(b, "insertps") || starts(b, "broadcast") ||
        starts(b, "perm") || starts(b, "insertf") || starts(b, "extractf") || starts(b, "getexp") ||
        starts(b, "getmant") || starts(b, "scalef") || starts(b, "range") || starts(b, "reduce") ||
        starts(b, "fixup") || starts(b, "compress") || starts(b, "expand") || starts(b, "gather") ||
        starts(b, "scatter") || starts(b, "test") || ends(b, "ps") || ends(b, "pd") || ends(b, "ss") ||
        ends(b, "sd"))
        return K_SCALAR_ADD;
    if (starts(b, "inserti") || starts(b, "extracti") || starts(b, "align") || starts(b, "kand") ||
        starts(b, "kor") || starts(b, "kmov") || starts(b, "knot") || starts(b, "kshift") ||
        starts(b, "kxor") || starts(b, "kunpck") || starts(b, "ktest") || starts(b, "kadd"))
        return K_SIMD_INT;
    return K_OTHER;
}

static void build_kinds(void)
{
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
        return;
    for (int id = 1; id < X86_INS_ENDING; id++) {
        name_of[id] = cs_insn_name(h, (unsigned)id);
        kind_of[id] = (uint8_t)classify_name(name_of[id]);
    }
    cs_close(&h);
}

const char *pv_flow_name(pv_flow f)
{
    static const char *const names[] = {"none", "cond", "jump", "ijump", "call", "icall", "ret", "syscall", "halt"};
    return (unsigned)f < PV_FLOW_NKINDS ? names[f] : NULL;
}

int pv_decoder_new(pv_decoder **out, const pv_decoder_options *opts)
{
    pv_decoder_options def = PV_DECODER_OPTIONS_INIT;
    int rc = PV_OK;
    pv_decoder *d = NULL;
    if (!out)
        return pv_error_set(PV_ERR_INVALID, "pv_decoder_new: out is NULL");
    *out = NULL;
    if (!opts)
        opts = &def;
    if (opts->version != PV_DECODER_OPTIONS_VERSION) {
        rc = pv_error_set(PV_ERR_INVALID, "pv_decoder_new: options version %d, this library knows %d",
                          opts->version, PV_DECODER_OPTIONS_VERSION);
        goto done;
    }
    pthread_once(&kind_once, build_kinds);
    d = calloc(1, sizeof *d);
    if (!d) {
        rc = pv_error_set(PV_ERR_NOMEM, "pv_decoder_new: out of memory");
        goto done;
    }
    cs_err e = cs_open(CS_ARCH_X86, CS_MODE_64, &d->cs);
    if (e != CS_ERR_OK) {
        rc = pv_error_set(PV_ERR_BACKEND, "Capstone: cannot open an x86-64 decoder: %s", cs_strerror(e));
        goto done;
    }
    cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
    if (!(d->insn = cs_malloc(d->cs))) {
        rc = pv_error_set(PV_ERR_NOMEM, "pv_decoder_new: out of memory");
        goto done;
    }
    d->text = opts->text;
    *out = d;
    d = NULL;
done:
    pv_decoder_free(d); /* a partly built one: pv_decoder_free() takes any state */
    return rc;
}

void pv_decoder_free(pv_decoder *d)
{
    if (!d)
        return;
    if (d->insn)
        cs_free(d->insn, 1);
    cs_close(&d->cs);
    free(d);
}

static int vec_reg_bits(x86_reg r)
{
    if (r >= X86_REG_XMM0 && r <= X86_REG_XMM31)
        return 128;
    if (r >= X86_REG_YMM0 && r <= X86_REG_YMM31)
        return 256;
    if (r >= X86_REG_ZMM0 && r <= X86_REG_ZMM31)
        return 512;
    if (r >= X86_REG_MM0 && r <= X86_REG_MM7)
        return 64;
    return 0;
}

static uint8_t simd_class(int fp, int bits)
{
    if (bits >= 512)
        return fp ? PV_MIX_SIMD_FP_512 : PV_MIX_SIMD_INT_512;
    if (bits >= 256)
        return fp ? PV_MIX_SIMD_FP_256 : PV_MIX_SIMD_INT_256;
    return fp ? PV_MIX_SIMD_FP_128 : PV_MIX_SIMD_INT_128;
}

/* Scalar SSE/AVX: the mnemonic ends in ss/sd/sh (or is a scalar convert/compare). */
static int is_scalar_fp(const char *m)
{
    const char *b = m[0] == 'v' ? m + 1 : m;
    if (ends(b, "ss") || ends(b, "sd") || ends(b, "sh"))
        return 1;
    if (starts(b, "comis") || starts(b, "ucomis"))
        return 1;
    if (starts(b, "cvt") && (strstr(b, "2si") || strstr(b, "si2s") || strstr(b, "2usi") || strstr(b, "usi2s") ||
                             strstr(b, "sd2ss") || strstr(b, "ss2sd")))
        return 1;
    return 0;
}

/* Packed integer vs floating point, for a SIMD op that is not obviously either. */
static int is_fp_mnemonic(const char *m)
{
    const char *b = m[0] == 'v' ? m + 1 : m;
    if (b[0] == 'p')
        return 0;
    if (ends(b, "ps") || ends(b, "pd") || ends(b, "ph") || ends(b, "ss") || ends(b, "sd") || strstr(b, "f128") ||
        strstr(b, "f32x") || strstr(b, "f64x") || starts(b, "cvt") || starts(b, "broadcasts"))
        return 1;
    return 0;
}

static int ext_level(const char *e)
{
    return !e ? 0 : !strcmp(e, "AVX-512") ? 5 : !strcmp(e, "AVX2") ? 2 : !strcmp(e, "AVX") ? 1 : 4;
}

static void ext_rank(const char **ext, const char *name, int level)
{
    if (level > ext_level(*ext))
        *ext = name;
}

static int is_gpr32_64(x86_reg r)
{
    switch (r) {
    case X86_REG_EAX: case X86_REG_EBX: case X86_REG_ECX: case X86_REG_EDX: case X86_REG_ESI:
    case X86_REG_EDI: case X86_REG_EBP: case X86_REG_ESP: case X86_REG_R8D: case X86_REG_R9D:
    case X86_REG_R10D: case X86_REG_R11D: case X86_REG_R12D: case X86_REG_R13D: case X86_REG_R14D:
    case X86_REG_R15D:
    case X86_REG_RAX: case X86_REG_RBX: case X86_REG_RCX: case X86_REG_RDX: case X86_REG_RSI:
    case X86_REG_RDI: case X86_REG_RBP: case X86_REG_RSP: case X86_REG_R8: case X86_REG_R9:
    case X86_REG_R10: case X86_REG_R11: case X86_REG_R12: case X86_REG_R13: case X86_REG_R14:
    case X86_REG_R15:
        return 1;
    default:
        return 0;
    }
}

/* Moves the core eliminates at register rename (PV_INSN_MOVE_ELIM): they
 * take an issue slot but no execution port and have zero latency.
 *  - AMD Zen: "Register-to-register move instructions are resolved at the
 *    register rename stage without using any execution units. These
 *    instructions have zero latency" (Agner Fog, The microarchitecture of
 *    Intel, AMD and VIA CPUs, Zen chapters, "Instructions with no
 *    latency"); AMD's Software Optimization Guide for family 19h (Zen 3/4),
 *    2.9.4 "Zero Cycle Move"; LLVM commit 7059b28 "AMD Zen 3: 32/64-bit GPR
 *    register moves are zero-cycle" (measured with llvm-exegesis). Vector:
 *    xmm moves since Zen 1, ymm since Zen 2.
 *  - Intel since Ivy Bridge: 32/64-bit GPR moves and xmm/ymm moves (Agner
 *    Fog, Ivy Bridge chapter, "Move elimination"; uops.info gives MOV r64,
 *    r64 latency 0), except that a microcode update turned GPR elimination
 *    off on Ice Lake and Tiger Lake (uops.info: latency 1 there), and that
 *    elimination can fail when its slots run out (uiCA paper, 4.1.4).
 * Not eliminated, so not flagged: 8/16-bit moves (they merge into the
 * wider register), movzx/movsx/movsxd, a register moved to itself (mov
 * eax, eax zero-extends; Intel never eliminates it), moves with a memory
 * operand or an immediate, masked (EVEX {k}) or 512-bit vector moves, and
 * moves between register files (movd/movq). */
static int move_eliminable(const cs_insn *ci, const cs_x86 *x)
{
    if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || x->operands[1].type != X86_OP_REG)
        return 0;
    x86_reg dst = x->operands[0].reg, src = x->operands[1].reg;
    if (dst == src)
        return 0;
    if (ci->id == X86_INS_MOV)
        return is_gpr32_64(dst) && is_gpr32_64(src) && x->operands[0].size == x->operands[1].size;
    static const char *const vmoves[] = {"movaps", "movapd", "movups", "movupd", "movdqa", "movdqu", NULL};
    const char *b = ci->mnemonic[0] == 'v' ? ci->mnemonic + 1 : ci->mnemonic;
    int bits = vec_reg_bits(dst);
    return in_list(b, vmoves) && (bits == 128 || bits == 256) && vec_reg_bits(src) == bits &&
           !strchr(ci->op_str, '{');
}

int pva_decode(pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out)
{
    const uint8_t *p = code;
    size_t n = len;
    uint64_t a = addr;
    memset(out, 0, offsetof(pv_insn, text) + 1);
    out->addr = addr;
    out->cls = PV_INSN_NOCLASS;
    if (!cs_disasm_iter(d->cs, &p, &n, &a, d->insn))
        return 0;
    const cs_insn *ci = d->insn;
    const cs_x86 *x = &ci->detail->x86;
    unsigned id = ci->id;
    int kind = id < X86_INS_ENDING ? kind_of[id] : K_OTHER;
    /* Capstone 5 numbers the compare pseudo-ops (cmpltsd, vcmpneqps,
     * vpcmpleud, pclmulhqlqdq...) as the base id plus the predicate, so the
     * id names another instruction (cmplesd has the id of cmpsb): classify
     * those by the mnemonic printed. */
    {
        const char *mn = ci->mnemonic;
        const char *b = mn[0] == 'v' ? mn + 1 : mn;
        if ((starts(b, "cmp") || starts(b, "pcmp") || starts(b, "pclmul") || starts(b, "pcom")) && id < X86_INS_ENDING &&
            name_of[id] && strcmp(mn, name_of[id]))
            kind = classify_name(mn);
    }
    out->size = (uint8_t)ci->size;
    out->id = (uint16_t)id;
    if (d->text) {
        size_t ml = strlen(ci->mnemonic);
        if (ml > sizeof out->text - 1)
            ml = sizeof out->text - 1;
        memcpy(out->text, ci->mnemonic, ml);
        size_t ol = strlen(ci->op_str);
        if (ol && ml + 1 < sizeof out->text - 1) {
            out->text[ml++] = ' ';
            if (ol > sizeof out->text - 1 - ml)
                ol = sizeof out->text - 1 - ml;
            memcpy(out->text + ml, ci->op_str, ol);
            ml += ol;
        }
        out->text[ml] = 0;
    }

    /* Groups: control flow and the extensions TCG cannot run. */
    int flow = PV_FLOW_NONE;
    const char *ext = NULL;
    for (int g = 0; g < ci->detail->groups_count; g++) {
        switch (ci->detail->groups[g]) {
        case X86_GRP_JUMP: flow = id == X86_INS_JMP || id == X86_INS_LJMP ? PV_FLOW_JUMP : PV_FLOW_COND; break;
        case X86_GRP_CALL: flow = PV_FLOW_CALL; break;
        case X86_GRP_RET:
        case X86_GRP_IRET: flow = PV_FLOW_RET; break;
        /* The most specific extension wins: AVX-512 > FMA/F16C/XOP > AVX2 > AVX. */
        case X86_GRP_AVX512: ext_rank(&ext, "AVX-512", 5); break;
        case X86_GRP_FMA:
        case X86_GRP_FMA4: ext_rank(&ext, "FMA", 4); break;
        case X86_GRP_F16C: ext_rank(&ext, "F16C", 4); break;
        case X86_GRP_XOP: ext_rank(&ext, "XOP", 4); break;
        case X86_GRP_AVX2: ext_rank(&ext, "AVX2", 2); break;
        case X86_GRP_AVX: ext_rank(&ext, "AVX", 1); break;
        default: break;
        }
    }
    /* Capstone tags some FMA3 forms only as AVX. */
    if (starts(ci->mnemonic, "vfm") || starts(ci->mnemonic, "vfnm"))
        ext_rank(&ext, "FMA", 4);

    /* Operands: memory accesses and vector width. */
    int vbits = 0, has_xmm = 0, mem_target = 0, nmem = 0;
    uint32_t ld = 0, st = 0;
    int reads = 0, writes = 0;
    uint8_t elem = 0;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_REG) {
            int vb = vec_reg_bits(op->reg);
            if (vb > vbits)
                vbits = vb;
            if (vb >= 128)
                has_xmm = 1;
        } else if (op->type == X86_OP_MEM) {
            nmem++;
            elem = op->size;
            if (op->access & CS_AC_READ) {
                reads = 1;
                ld += op->size;
            }
            if (op->access & CS_AC_WRITE) {
                writes = 1;
                st += op->size;
            }
            /* Capstone leaves access empty for a few memory forms; a memory
             * operand that is neither read nor written is still a read. */
            if (!(op->access & (CS_AC_READ | CS_AC_WRITE))) {
                reads = 1;
                ld += op->size;
            }
            if (flow == PV_FLOW_JUMP || flow == PV_FLOW_CALL)
                mem_target = 1;
        }
    }
    if (has_xmm && vbits < 128)
        vbits = 128;
    if (kind == K_SCALAR_ADD || kind == K_SCALAR_MUL || kind == K_SCALAR_FMA || kind == K_SCALAR_DIVSQRT ||
        kind == K_SIMD_FP || kind == K_SIMD_INT || kind == K_VMOVE || kind == K_CRYPTO) {
        /* A vector op on memory only: the memory operand's size is the width. */
        if (!vbits && nmem && elem >= 16)
            vbits = elem * 8;
    }

    /* Control flow. */
    if (flow == PV_FLOW_JUMP || flow == PV_FLOW_CALL || flow == PV_FLOW_COND) {
        if (x->op_count >= 1 && x->operands[0].type == X86_OP_IMM)
            out->target = (uint64_t)x->operands[0].imm;
        else if (flow == PV_FLOW_JUMP)
            flow = PV_FLOW_IJUMP;
        else if (flow == PV_FLOW_CALL)
            flow = PV_FLOW_ICALL;
    }
    if (mem_target)
        out->flags |= PV_INSN_MEM_TARGET;

    /* Compute class. */
    uint8_t cls = PV_INSN_NOCLASS;
    int mem_counts = 1;
    switch (kind) {
    case K_INT_ALU: cls = PV_MIX_INT_ALU; break;
    case K_INT_MUL: cls = PV_MIX_INT_MUL; break;
    case K_INT_DIV: cls = PV_MIX_INT_DIV; break;
    case K_MOVE:
        if (has_xmm && id == X86_INS_MOVSD && nmem == 0)
            cls = simd_class(1, 128);
        else if (nmem == 0)
            cls = has_xmm ? simd_class(is_fp_mnemonic(ci->mnemonic), vbits) : PV_MIX_INT_ALU;
        break; /* with memory: a pure load or store */
    case K_VMOVE:
        if (nmem == 0)
            cls = simd_class(is_fp_mnemonic(ci->mnemonic), vbits);
        break;
    case K_LEA: cls = PV_MIX_INT_ALU; mem_counts = 0; break;
    case K_NOP: cls = PV_MIX_OTHER; mem_counts = 0; out->flags |= PV_INSN_NOP; break;
    case K_PREFETCH: cls = PV_MIX_OTHER; mem_counts = 0; break;
    case K_PUSH:
        /* Implicit store of the operand to the stack. */
        writes = 1;
        st += x->op_count && x->operands[0].size ? x->operands[0].size : 8;
        if (!strcmp(ci->mnemonic, "pushfq") || !strcmp(ci->mnemonic, "pushf"))
            st = 8;
        break;
    case K_POP:
        reads = 1;
        ld += x->op_count && x->operands[0].size ? x->operands[0].size : 8;
        break;
    case K_LEAVE: cls = PV_MIX_INT_ALU; reads = 1; ld += 8; break;
    case K_ENTER: cls = PV_MIX_INT_ALU; writes = 1; st += 8; break;
    case K_XCHG:
        if (nmem) {
            cls = PV_MIX_ATOMIC;
            out->flags |= PV_INSN_LOCK;
        } else {
            cls = PV_MIX_INT_ALU;
        }
        break;
    case K_SCALAR_ADD:
    case K_SCALAR_MUL:
    case K_SCALAR_FMA:
    case K_SCALAR_DIVSQRT:
        if (is_scalar_fp(ci->mnemonic))
            cls = kind == K_SCALAR_ADD   ? PV_MIX_FP_ADD
                  : kind == K_SCALAR_MUL ? PV_MIX_FP_MUL
                  : kind == K_SCALAR_FMA ? PV_MIX_FP_FMA
                                         : PV_MIX_FP_DIVSQRT;
        else
            cls = simd_class(is_fp_mnemonic(ci->mnemonic) || kind != K_SCALAR_ADD, vbits);
        break;
    case K_SIMD_FP: cls = simd_class(1, vbits); break;
    case K_SIMD_INT: cls = simd_class(0, vbits); break;
    case K_X87_ADD: cls = PV_MIX_FP_ADD; break;
    case K_X87_MUL: cls = PV_MIX_FP_MUL; break;
    case K_X87_DIV: cls = PV_MIX_FP_DIVSQRT; break;
    case K_X87_MOVE:
        if (nmem == 0)
            cls = PV_MIX_OTHER;
        break;
    case K_STRING:
        if (has_xmm) {
            /* movsd/cmpsd with xmm operands: SSE2, not string instructions. */
            if (id == X86_INS_CMPSD)
                cls = PV_MIX_FP_ADD;
            else if (nmem == 0)
                cls = simd_class(1, 128);
            break;
        }
        cls = PV_MIX_STRING;
        out->flags |= PV_INSN_STRING;
        out->str_elem = elem;
        if (x->prefix[0] == X86_PREFIX_REP)
            out->flags |= PV_INSN_REP;
        else if (x->prefix[0] == X86_PREFIX_REPNE)
            out->flags |= PV_INSN_REPNE;
        break;
    case K_CRYPTO: cls = PV_MIX_CRYPTO; break;
    case K_SYSCALL: cls = PV_MIX_SYSCALL; flow = PV_FLOW_SYSCALL; break;
    case K_HALT: cls = PV_MIX_OTHER; flow = PV_FLOW_HALT; break;
    default: cls = PV_MIX_OTHER; break;
    }
    /* Control flow overrides the data class; call/ret move the return address. */
    switch (flow) {
    case PV_FLOW_COND: cls = PV_MIX_BRANCH_COND; break;
    case PV_FLOW_JUMP:
    case PV_FLOW_IJUMP: cls = PV_MIX_JUMP; break;
    case PV_FLOW_CALL:
    case PV_FLOW_ICALL: cls = PV_MIX_CALL; writes = 1; st += 8; break;
    case PV_FLOW_RET: cls = PV_MIX_RET; reads = 1; ld += 8; break;
    default: break;
    }
    if (kind == K_MOVE || kind == K_VMOVE) {
        if (move_eliminable(ci, x))
            out->flags |= PV_INSN_MOVE_ELIM;
    }
    if (x->prefix[0] == X86_PREFIX_LOCK && (reads || writes)) {
        cls = PV_MIX_ATOMIC;
        out->flags |= PV_INSN_LOCK;
    }
    if (ext && (cls <= PV_MIX_SIMD_FP_512 || cls == PV_MIX_CRYPTO || cls == PV_INSN_NOCLASS ||
                cls == PV_MIX_OTHER || ci->mnemonic[0] == 'v' || vbits >= 128)) {
        out->flags |= PV_INSN_TCG_UNSUPPORTED;
        out->ext = ext;
    } else if (!ext && ci->mnemonic[0] == 'v' && (vbits >= 128 || cls <= PV_MIX_SIMD_FP_512) &&
               kind != K_OTHER) {
        /* A VEX/EVEX-encoded op Capstone did not tag with a group. */
        out->flags |= PV_INSN_TCG_UNSUPPORTED;
        out->ext = vbits >= 512 ? "AVX-512" : "AVX";
    }
    if (mem_counts) {
        out->nloads = (uint8_t)reads;
        out->nstores = (uint8_t)writes;
        out->bytes_loaded = reads ? ld : 0;
        out->bytes_stored = writes ? st : 0;
    }
    out->cls = cls;
    out->flow = (uint8_t)flow;
    out->vec_bits = (uint16_t)vbits;
    return 1;
}

int pv_decode_insn(pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out)
{
    if (!d || !code || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_decode_insn: NULL argument");
    if (pva_decode(d, code, len, addr, out))
        return PV_OK;
    char hex[3 * 15 + 1] = "";
    size_t k = len < 15 ? len : 15;
    for (size_t i = 0; i < k; i++)
        snprintf(hex + 3 * i, 4, "%02x ", code[i]);
    if (k)
        hex[3 * k - 1] = 0;
    return pv_error_set(PV_ERR_FORMAT, "0x%llx: cannot decode the bytes [%s] as an x86-64 instruction%s",
                        (unsigned long long)addr, hex, len < 15 ? " (or the buffer ends inside it)" : "");
}

void pv_insn_add_to_mix(const pv_insn *in, pv_mix *mix)
{
    if (in->cls < PV_MIX_NCLASSES)
        mix->n[in->cls]++;
    mix->n[PV_MIX_LOAD] += in->nloads;
    mix->n[PV_MIX_STORE] += in->nstores;
    mix->bytes_loaded += in->bytes_loaded;
    mix->bytes_stored += in->bytes_stored;
}
