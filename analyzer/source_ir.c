/* The LLVM IR pass of the source analyzer: compile a TU to bitcode with
 * clang (-O2 -gline-tables-only: line locations are all the pass needs, and
 * the bitcode is half the size of -g's), read it with the LLVM-C API, find natural loops from
 * dominators over each function's CFG (LLVM-C exposes no loop analysis, so
 * the dominator tree is computed here with the Cooper-Harvey-Kennedy
 * iteration), and count target-independent operations per loop body. */
#include <fcntl.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Target.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "source_internal.h"

extern char **environ;

/* Pointer -> block index, open addressing. */
typedef struct bmap {
    LLVMBasicBlockRef *key;
    unsigned *val;
    unsigned cap;
} bmap;

static unsigned bhash(LLVMBasicBlockRef b, unsigned cap) { return (unsigned)(((uintptr_t)b >> 4) * 2654435761u) & (cap - 1); }

static int bmap_init(bmap *m, unsigned n)
{
    m->cap = 16;
    while (m->cap < n * 2)
        m->cap *= 2;
    m->key = calloc(m->cap, sizeof *m->key);
    m->val = calloc(m->cap, sizeof *m->val);
    return m->key && m->val ? 0 : -1;
}

static void bmap_put(bmap *m, LLVMBasicBlockRef b, unsigned v)
{
    unsigned h = bhash(b, m->cap);
    while (m->key[h] && m->key[h] != b)
        h = (h + 1) & (m->cap - 1);
    m->key[h] = b;
    m->val[h] = v;
}

static unsigned bmap_get(const bmap *m, LLVMBasicBlockRef b)
{
    unsigned h = bhash(b, m->cap);
    while (m->key[h]) {
        if (m->key[h] == b)
            return m->val[h];
        h = (h + 1) & (m->cap - 1);
    }
    return UINT32_MAX;
}

/* Operation counts of a set of blocks. */
typedef struct opcount {
    uint64_t fp[2][5]; /* [f32,f64][add,mul,div,fma,sqrt], scalar operations and vector lanes */
    uint64_t int_ops, int_mul, int_div;
    uint64_t loads, load_bytes, stores, store_bytes;
    uint64_t vec[4];   /* vector instructions by width: 64, 128, 256, 512+ bits */
    uint64_t calls;
} opcount;

enum { FP_ADD, FP_MUL, FP_DIV, FP_FMA, FP_SQRT };

static void count_fp(opcount *c, LLVMTypeRef t, int op)
{
    unsigned lanes = 1;
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind) {
        lanes = LLVMGetVectorSize(t);
        t = LLVMGetElementType(t);
    }
    LLVMTypeKind k = LLVMGetTypeKind(t);
    if (k == LLVMFloatTypeKind)
        c->fp[0][op] += lanes;
    else if (k == LLVMDoubleTypeKind)
        c->fp[1][op] += lanes;
}

static void count_vector(opcount *c, LLVMTargetDataRef td, LLVMTypeRef t)
{
    if (LLVMGetTypeKind(t) != LLVMVectorTypeKind)
        return;
    unsigned long long bits = LLVMSizeOfTypeInBits(td, t);
    c->vec[bits <= 64 ? 0 : bits <= 128 ? 1 : bits <= 256 ? 2 : 3]++;
}

static void count_block(opcount *c, LLVMTargetDataRef td, LLVMBasicBlockRef bb)
{
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
        LLVMOpcode op = LLVMGetInstructionOpcode(in);
        LLVMTypeRef t = LLVMTypeOf(in);
        switch (op) {
        case LLVMFAdd:
        case LLVMFSub: count_fp(c, t, FP_ADD); count_vector(c, td, t); break;
        case LLVMFMul: count_fp(c, t, FP_MUL); count_vector(c, td, t); break;
        case LLVMFDiv:
        case LLVMFRem: count_fp(c, t, FP_DIV); count_vector(c, td, t); break;
        case LLVMAdd:
        case LLVMSub:
        case LLVMShl:
        case LLVMLShr:
        case LLVMAShr:
        case LLVMAnd:
        case LLVMOr:
        case LLVMXor:
        case LLVMICmp: c->int_ops++; count_vector(c, td, t); break;
        case LLVMMul: c->int_ops++; c->int_mul++; count_vector(c, td, t); break;
        case LLVMUDiv:
        case LLVMSDiv:
        case LLVMURem:
        case LLVMSRem: c->int_ops++; c->int_div++; count_vector(c, td, t); break;
        case LLVMLoad:
            c->loads++;
            c->load_bytes += LLVMStoreSizeOfType(td, t);
            count_vector(c, td, t);
            break;
        case LLVMStore: {
            LLVMTypeRef vt = LLVMTypeOf(LLVMGetOperand(in, 0));
            c->stores++;
            c->store_bytes += LLVMStoreSizeOfType(td, vt);
            count_vector(c, td, vt);
            break;
        }
        case LLVMCall: {
            LLVMValueRef callee = LLVMGetCalledValue(in);
            size_t len = 0;
            const char *name = callee ? LLVMGetValueName2(callee, &len) : NULL;
            if (name && !strncmp(name, "llvm.", 5)) {
                if (!strncmp(name, "llvm.fmuladd.", 13) || !strncmp(name, "llvm.fma.", 9)) {
                    count_fp(c, t, FP_FMA);
                    count_vector(c, td, t);
                } else if (!strncmp(name, "llvm.sqrt.", 10)) {
                    count_fp(c, t, FP_SQRT);
                    count_vector(c, td, t);
                } else if (!strncmp(name, "llvm.memcpy", 11) || !strncmp(name, "llvm.memset", 11) ||
                           !strncmp(name, "llvm.memmove", 12))
                    c->calls++;
                /* debug, lifetime and assume intrinsics are not work */
            } else if (name && (!strcmp(name, "sqrt") || !strcmp(name, "sqrtf"))) {
                count_fp(c, t, FP_SQRT);
                c->calls++;
            } else
                c->calls++;
            break;
        }
        default: break;
        }
    }
}

/* Line (and file) of a loop: the start location in its !llvm.loop metadata
 * (clang puts the source loop's first line there under -g); otherwise the
 * header's first instruction with a location. */
static unsigned loop_line(LLVMBasicBlockRef header, LLVMBasicBlockRef *latches, unsigned nlatch, unsigned mdkind,
                          char *file, size_t filesz)
{
    for (unsigned i = 0; i < nlatch; i++) {
        LLVMValueRef term = LLVMGetBasicBlockTerminator(latches[i]);
        LLVMValueRef md = term ? LLVMGetMetadata(term, mdkind) : NULL;
        if (!md)
            continue;
        unsigned n = LLVMGetMDNodeNumOperands(md);
        LLVMValueRef *ops = calloc(n ? n : 1, sizeof *ops);
        if (!ops)
            break;
        LLVMGetMDNodeOperands(md, ops);
        unsigned line = 0;
        for (unsigned k = 1; k < n && !line; k++) {
            if (!ops[k])
                continue;
            LLVMMetadataRef m = LLVMValueAsMetadata(ops[k]);
            if (m && LLVMGetMetadataKind(m) == LLVMDILocationMetadataKind) {
                line = LLVMDILocationGetLine(m);
                LLVMMetadataRef scope = LLVMDILocationGetScope(m);
                LLVMMetadataRef f = scope ? LLVMDIScopeGetFile(scope) : NULL;
                unsigned len = 0;
                const char *fn = f ? LLVMDIFileGetFilename(f, &len) : NULL;
                if (fn)
                    snprintf(file, filesz, "%.*s", (int)len, fn);
            }
        }
        free(ops);
        if (line)
            return line;
    }
    for (LLVMValueRef in = LLVMGetFirstInstruction(header); in; in = LLVMGetNextInstruction(in)) {
        unsigned line = LLVMGetDebugLocLine(in);
        if (line) {
            unsigned len = 0;
            const char *fn = LLVMGetDebugLocFilename(in, &len);
            if (fn)
                snprintf(file, filesz, "%.*s", (int)len, fn);
            return line;
        }
    }
    return 0;
}

/* Step of the loop's integer induction variable in the IR: a header phi
 * whose value from a latch is phi + C. After unrolling or vectorization, C
 * over the source step is the number of source iterations per IR iteration. */
static long long ir_step(LLVMBasicBlockRef header, LLVMBasicBlockRef *latches, unsigned nlatch)
{
    for (LLVMValueRef in = LLVMGetFirstInstruction(header); in && LLVMGetInstructionOpcode(in) == LLVMPHI;
         in = LLVMGetNextInstruction(in)) {
        if (LLVMGetTypeKind(LLVMTypeOf(in)) != LLVMIntegerTypeKind)
            continue;
        for (unsigned k = 0; k < LLVMCountIncoming(in); k++) {
            LLVMBasicBlockRef from = LLVMGetIncomingBlock(in, k);
            int is_latch = 0;
            for (unsigned j = 0; j < nlatch && !is_latch; j++)
                is_latch = latches[j] == from;
            LLVMValueRef v = LLVMGetIncomingValue(in, k);
            if (!is_latch || !LLVMIsAInstruction(v))
                continue;
            LLVMOpcode op = LLVMGetInstructionOpcode(v);
            if ((op != LLVMAdd && op != LLVMSub) || LLVMGetOperand(v, 0) != in || !LLVMIsAConstantInt(LLVMGetOperand(v, 1)))
                continue;
            long long c = LLVMConstIntGetSExtValue(LLVMGetOperand(v, 1));
            if (c)
                return op == LLVMSub ? -c : c;
        }
    }
    return 0;
}

static json_t *fp_json(const uint64_t v[5])
{
    static const char *const names[] = {"add", "mul", "div", "fma", "sqrt"};
    json_t *o = json_object();
    for (int i = 0; o && i < 5; i++)
        if (v[i])
            json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
    return o;
}

static json_t *counts_json(const opcount *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    double flops = 0;
    for (int p = 0; p < 2; p++)
        flops += (double)(c->fp[p][FP_ADD] + c->fp[p][FP_MUL] + c->fp[p][FP_DIV] + 2 * c->fp[p][FP_FMA] + c->fp[p][FP_SQRT]);
    json_t *fp = json_object();
    if (fp) {
        if (c->fp[0][0] + c->fp[0][1] + c->fp[0][2] + c->fp[0][3] + c->fp[0][4])
            json_object_set_new(fp, "f32", fp_json(c->fp[0]));
        if (c->fp[1][0] + c->fp[1][1] + c->fp[1][2] + c->fp[1][3] + c->fp[1][4])
            json_object_set_new(fp, "f64", fp_json(c->fp[1]));
        json_object_set_new(o, "fp", fp);
    }
    json_object_set_new(o, "int_ops", json_integer((json_int_t)c->int_ops));
    json_object_set_new(o, "int_mul", json_integer((json_int_t)c->int_mul));
    json_object_set_new(o, "int_div", json_integer((json_int_t)c->int_div));
    json_object_set_new(o, "loads", json_integer((json_int_t)c->loads));
    json_object_set_new(o, "load_bytes", json_integer((json_int_t)c->load_bytes));
    json_object_set_new(o, "stores", json_integer((json_int_t)c->stores));
    json_object_set_new(o, "store_bytes", json_integer((json_int_t)c->store_bytes));
    json_t *vec = json_object();
    static const char *const w[] = {"64", "128", "256", "512"};
    for (int i = 0; vec && i < 4; i++)
        if (c->vec[i])
            json_object_set_new(vec, w[i], json_integer((json_int_t)c->vec[i]));
    json_object_set_new(o, "vector_ops", vec);
    json_object_set_new(o, "calls", json_integer((json_int_t)c->calls));
    json_object_set_new(o, "flops", json_real(flops));
    uint64_t bytes = c->load_bytes + c->store_bytes;
    if (bytes)
        json_object_set_new(o, "intensity", json_real(flops / (double)bytes));
    return o;
}

/* Loops of one function. Appends one object per natural loop to @p out. */
static int function_loops(LLVMValueRef fn, LLVMTargetDataRef td, unsigned mdkind, json_t *out)
{
    unsigned n = LLVMCountBasicBlocks(fn);
    if (n < 2)
        return PV_OK;
    int rc = PV_ERR_NOMEM;
    LLVMBasicBlockRef *bb = calloc(n, sizeof *bb);
    unsigned *nsucc = calloc(n, sizeof *nsucc), **succ = calloc(n, sizeof *succ);
    unsigned *npred = calloc(n, sizeof *npred), **pred = calloc(n, sizeof *pred);
    unsigned *rpo = calloc(n, sizeof *rpo), *order = calloc(n, sizeof *order), *idom = calloc(n, sizeof *idom);
    unsigned *stack = calloc(n, sizeof *stack), *it = calloc(n, sizeof *it);
    unsigned *inner = calloc(n, sizeof *inner); /* innermost loop header of each block */
    unsigned *depth = calloc(n, sizeof *depth);
    unsigned char *inloop = calloc(n, 1);
    LLVMBasicBlockRef *latches = calloc(n, sizeof *latches);
    bmap m = {0};
    if (!bb || !nsucc || !succ || !npred || !pred || !rpo || !order || !idom || !stack || !it || !inner || !depth ||
        !inloop || !latches || bmap_init(&m, n))
        goto done;
    LLVMGetBasicBlocks(fn, bb);
    for (unsigned i = 0; i < n; i++)
        bmap_put(&m, bb[i], i);
    for (unsigned i = 0; i < n; i++) {
        LLVMValueRef t = LLVMGetBasicBlockTerminator(bb[i]);
        unsigned k = t ? LLVMGetNumSuccessors(t) : 0;
        succ[i] = calloc(k ? k : 1, sizeof **succ);
        if (!succ[i])
            goto done;
        for (unsigned j = 0; j < k; j++) {
            unsigned s = bmap_get(&m, LLVMGetSuccessor(t, j));
            if (s != UINT32_MAX) {
                succ[i][nsucc[i]++] = s;
                npred[s]++;
            }
        }
    }
    for (unsigned i = 0; i < n; i++)
        if (!(pred[i] = calloc(npred[i] ? npred[i] : 1, sizeof **pred)))
            goto done;
    memset(npred, 0, n * sizeof *npred);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < nsucc[i]; j++)
            pred[succ[i][j]][npred[succ[i][j]]++] = i;
    /* reverse post-order by an iterative DFS from the entry */
    for (unsigned i = 0; i < n; i++)
        rpo[i] = UINT32_MAX;
    unsigned sp = 0, post = 0;
    stack[sp++] = 0;
    rpo[0] = 0; /* visited marker until numbered */
    unsigned char *seen = inloop; /* reused as a visited set before loops are built */
    seen[0] = 1;
    while (sp) {
        unsigned b = stack[sp - 1];
        if (it[b] < nsucc[b]) {
            unsigned s = succ[b][it[b]++];
            if (!seen[s]) {
                seen[s] = 1;
                stack[sp++] = s;
            }
        } else {
            order[post++] = b;
            sp--;
        }
    }
    /* order[] is post-order; rpo[b] is b's position in reverse post-order */
    for (unsigned i = 0; i < post; i++)
        rpo[order[i]] = post - 1 - i;
    for (unsigned i = 0; i < n; i++)
        idom[i] = UINT32_MAX;
    idom[0] = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (unsigned oi = post; oi-- > 0;) {
            unsigned b = order[oi];
            if (b == 0)
                continue;
            unsigned nd = UINT32_MAX;
            for (unsigned j = 0; j < npred[b]; j++) {
                unsigned p = pred[b][j];
                if (idom[p] == UINT32_MAX)
                    continue;
                if (nd == UINT32_MAX) {
                    nd = p;
                    continue;
                }
                unsigned x = p, y = nd;
                while (x != y) {
                    while (rpo[x] > rpo[y])
                        x = idom[x];
                    while (rpo[y] > rpo[x])
                        y = idom[y];
                }
                nd = x;
            }
            if (nd != UINT32_MAX && idom[b] != nd) {
                idom[b] = nd;
                changed = 1;
            }
        }
    }
    /* headers: targets of back edges (b -> h with h dominating b), in reverse post-order so that
     * outer loops (earlier headers) are processed before inner ones and inner ones overwrite inner[] */
    for (unsigned i = 0; i < n; i++)
        inner[i] = UINT32_MAX;
    size_t first_out = json_array_size(out);
    for (unsigned oi = post; oi-- > 0;) {
        unsigned h = order[oi];
        unsigned nlatch = 0;
        sp = 0;
        for (unsigned j = 0; j < npred[h]; j++) {
            unsigned b = pred[h][j];
            if (idom[b] == UINT32_MAX)
                continue; /* unreachable */
            unsigned x = b;
            while (x != h && x != 0)
                x = idom[x];
            if (x != h)
                continue;
            if (!nlatch)
                memset(inloop, 0, n); /* only for headers: clearing per block would be quadratic */
            latches[nlatch++] = bb[b];
            if (!inloop[b]) {
                inloop[b] = 1;
                stack[sp++] = b;
            }
        }
        if (!nlatch)
            continue;
        inloop[h] = 1;
        while (sp) {
            unsigned b = stack[--sp];
            if (b == h)
                continue;
            for (unsigned j = 0; j < npred[b]; j++) {
                unsigned p = pred[b][j];
                if (!inloop[p] && idom[p] != UINT32_MAX) {
                    inloop[p] = 1;
                    stack[sp++] = p;
                }
            }
        }
        unsigned nblocks = 0, d = 1;
        for (unsigned i = 0; i < n; i++)
            if (inloop[i]) {
                nblocks++;
                depth[i]++;
            }
        d = depth[h];
        for (unsigned i = 0; i < n; i++)
            if (inloop[i])
                inner[i] = h;
        json_t *o = json_object();
        if (!o)
            goto done;
        char file[512] = "";
        unsigned line = loop_line(bb[h], latches, nlatch, mdkind, file, sizeof file);
        size_t len = 0;
        const char *fname = LLVMGetValueName2(fn, &len);
        json_object_set_new(o, "function", json_stringn(fname ? fname : "", len));
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "line", json_integer(line));
        json_object_set_new(o, "depth", json_integer(d));
        json_object_set_new(o, "blocks", json_integer(nblocks));
        json_object_set_new(o, "header", json_integer(h));
        long long step = ir_step(bb[h], latches, nlatch);
        if (step)
            json_object_set_new(o, "iv_step", json_integer(step));
        if (json_array_append_new(out, o))
            goto done;
    }
    /* counts over each loop's own blocks (those whose innermost loop it is) */
    for (size_t k = first_out; k < json_array_size(out); k++) {
        json_t *o = json_array_get(out, k);
        unsigned h = (unsigned)json_integer_value(json_object_get(o, "header"));
        opcount c;
        memset(&c, 0, sizeof c);
        for (unsigned i = 0; i < n; i++)
            if (inner[i] == h)
                count_block(&c, td, bb[i]);
        json_t *cj = counts_json(&c);
        if (!cj)
            goto done;
        json_object_set_new(o, "counts", cj);
        json_object_del(o, "header");
    }
    rc = PV_OK;
done:
    for (unsigned i = 0; succ && pred && i < n; i++) {
        free(succ[i]);
        free(pred[i]);
    }
    free(bb);
    free(nsucc);
    free(succ);
    free(npred);
    free(pred);
    free(rpo);
    free(order);
    free(idom);
    free(stack);
    free(it);
    free(inner);
    free(depth);
    free(inloop);
    free(latches);
    free(m.key);
    free(m.val);
    if (rc)
        return pv_error_set(rc, "IR pass: out of memory");
    return PV_OK;
}

static void ir_diag(json_t *diags, const char *file, unsigned line, const char *msg)
{
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "line", json_integer(line));
    json_object_set_new(o, "severity", json_string("error"));
    json_object_set_new(o, "pass", json_string("ir"));
    json_object_set_new(o, "message", json_string(msg));
    json_array_append_new(diags, o);
}

/* First "FILE:LINE:COL: error: MSG" line of the compiler's stderr, for the diagnostic. */
static void first_error(const char *errpath, char *file, size_t fsz, unsigned *line, char *buf, size_t sz)
{
    snprintf(buf, sz, "clang could not compile the file to bitcode");
    FILE *f = fopen(errpath, "r");
    if (!f)
        return;
    char text[1024];
    while (fgets(text, sizeof text, f)) {
        char *e = strstr(text, " error: ");
        if (!e)
            continue;
        text[strcspn(text, "\n")] = 0;
        snprintf(buf, sz, "bitcode compile failed: %s", e + 8);
        /* FILE:LINE:COL: before the severity */
        for (char *c = strchr(text, ':'); c && c < e; c = strchr(c + 1, ':')) {
            char *end;
            unsigned long l = strtoul(c + 1, &end, 10);
            if (end > c + 1 && *end == ':' && l) {
                *line = (unsigned)l;
                snprintf(file, fsz, "%.*s", (int)(c - text), text);
                break;
            }
        }
        break;
    }
    fclose(f);
}

/* Driver options clang rejected ("unknown argument: '-fconserve-stack'"
 * for a gcc-only flag), read from its stderr: the compile is retried
 * without them. Returns how many were added to @p drop. */
static unsigned rejected_args(const char *errpath, char drop[][128], unsigned ndrop, unsigned max)
{
    FILE *f = fopen(errpath, "r");
    if (!f)
        return 0;
    unsigned added = 0;
    char line[1024];
    while (ndrop + added < max && fgets(line, sizeof line, f)) {
        const char *k = strstr(line, "unknown argument: '");
        if (!k)
            k = strstr(line, "unsupported option '");
        if (!k)
            continue;
        k = strchr(k, '\'') + 1;
        const char *e = strchr(k, '\'');
        if (!e || e == k || (size_t)(e - k) >= sizeof drop[0])
            continue;
        snprintf(drop[ndrop + added], sizeof drop[0], "%.*s", (int)(e - k), k);
        added++;
    }
    fclose(f);
    return added;
}

/* Run clang on the TU once, without the options in @p drop. Returns the
 * exit status (-1 if killed) or a PV_ERR_NOTFOUND/NOMEM code below -1. */
static int compile_once(const char *clang, const src_tu *tu, const char *bc, const char *err, char drop[][128],
                        unsigned ndrop, int *status)
{
    int rc = PV_OK;
    char **argv = calloc((size_t)tu->nargs + 16, sizeof *argv);
    posix_spawn_file_actions_t fa;
    int fa_init = 0;
    if (!argv)
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
    int n = 0;
    argv[n++] = (char *)clang;
    /* -O2 before the TU's own flags, whose -O level and -g are dropped: an
     * optimization level given after -f flags resets them (-fno-vectorize
     * -O2 vectorizes), and the TU's explicit -f choices must stand. */
    argv[n++] = "-O2";
    for (int i = 0; i < tu->nargs; i++) {
        const char *a = tu->args[i];
        int skip = !strncmp(a, "-O", 2) || (!strncmp(a, "-g", 2) && strncmp(a, "-gcc", 4));
        for (unsigned k = 0; k < ndrop && !skip; k++)
            skip = !strcmp(a, drop[k]);
        if (!skip)
            argv[n++] = (char *)a;
    }
    const char *extra[] = {"-gline-tables-only", "-emit-llvm", "-c", "-w", "-Qunused-arguments", "-o", bc, tu->file};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        argv[n++] = (char *)extra[i];
    if (posix_spawn_file_actions_init(&fa)) {
        rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
        goto done;
    }
    fa_init = 1;
    pid_t pid;
    if (posix_spawn_file_actions_addchdir_np(&fa, tu->dir) ||
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ||
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600) ||
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) {
        rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
        goto done;
    }
    int serr = posix_spawnp(&pid, clang, &fa, NULL, argv, environ);
    if (serr) {
        rc = pv_error_set(PV_ERR_NOTFOUND, "%s: cannot run the compiler '%s' for the IR pass: %s; install clang-19 or pass --no-ir",
                          tu->file, clang, strerror(serr));
        goto done;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        ;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
done:
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    free(argv);
    return rc;
}

int pva_source_ir_tu(const char *clang, const char *tmpdir, unsigned id, const src_tu *tu, json_t *loops, json_t *diags)
{
    char bc[4096], err[4096], msg[700];
    snprintf(bc, sizeof bc, "%s/tu%u.bc", tmpdir, id);
    snprintf(err, sizeof err, "%s/tu%u.err", tmpdir, id);
    int rc = PV_OK;
    LLVMContextRef ctx = NULL;
    LLVMMemoryBufferRef buf = NULL;
    LLVMModuleRef mod = NULL;
    LLVMTargetDataRef td = NULL;
    char drop[16][128];
    unsigned ndrop = 0;
    int status = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        if ((rc = compile_once(clang, tu, bc, err, drop, ndrop, &status)))
            goto done;
        unsigned more = status ? rejected_args(err, drop, ndrop, 16) : 0;
        if (!more)
            break;
        ndrop += more;
    }
    if (status) {
        char efile[1024];
        unsigned eline = 0;
        snprintf(efile, sizeof efile, "%s", tu->file);
        first_error(err, efile, sizeof efile, &eline, msg, sizeof msg);
        ir_diag(diags, efile, eline, msg);
        goto done;
    }
    char *emsg = NULL;
    ctx = LLVMContextCreate();
    if (LLVMCreateMemoryBufferWithContentsOfFile(bc, &buf, &emsg)) {
        snprintf(msg, sizeof msg, "cannot read the bitcode: %s", emsg ? emsg : "?");
        LLVMDisposeMessage(emsg);
        ir_diag(diags, tu->file, 0, msg);
        goto done;
    }
    if (LLVMParseBitcodeInContext2(ctx, buf, &mod)) {
        ir_diag(diags, tu->file, 0, "LLVM could not parse the bitcode clang wrote");
        goto done;
    }
    td = LLVMCreateTargetData(LLVMGetDataLayoutStr(mod));
    unsigned mdkind = LLVMGetMDKindIDInContext(ctx, "llvm.loop", 9);
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn && !rc; fn = LLVMGetNextFunction(fn))
        if (LLVMCountBasicBlocks(fn))
            rc = function_loops(fn, td, mdkind, loops);
done:
    if (td)
        LLVMDisposeTargetData(td);
    if (mod)
        LLVMDisposeModule(mod);
    if (buf)
        LLVMDisposeMemoryBuffer(buf);
    if (ctx)
        LLVMContextDispose(ctx);
    unlink(bc);
    unlink(err);
    return rc;
}
