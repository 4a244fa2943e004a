/* The emulator's public API and run loop. */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <elf.h>

#include "internal.h"

/* Guest code never reaches this kernel-half address: uc_emu_start runs until a hook stops it. */
#define UNTIL 0xffffffffffffff00ull

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void pve_request_stop(pv_emu *e, int what)
{
    if (e->stop != PVE_STOP_END)
        e->stop = what;
    e->event_at = 0;
    uc_emu_stop(e->uc);
}

void pve_end(pv_emu *e, const char *reason, int exit_code, const char *fmt, ...)
{
    if (e->end_reason[0])
        return; /* the first reason to end wins */
    snprintf(e->end_reason, sizeof e->end_reason, "%s", reason);
    e->exit_code = exit_code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->end_msg, sizeof e->end_msg, fmt, ap);
    va_end(ap);
    pve_request_stop(e, PVE_STOP_END);
}

uint32_t pve_object_add(pv_emu *e, const char *path, uint64_t base)
{
    for (uint32_t i = 0; i < e->nobjs; i++)
        if (e->objs[i].base == base && !strcmp(e->objs[i].path, path))
            return i;
    if (e->nobjs == e->capobjs) {
        uint32_t cap = e->capobjs ? e->capobjs * 2 : 16;
        pve_object *n = realloc(e->objs, cap * sizeof *n);
        if (!n)
            return PV_NONE;
        e->objs = n;
        e->capobjs = cap;
    }
    pve_object *o = &e->objs[e->nobjs];
    memset(o, 0, sizeof *o);
    if (!(o->path = strdup(path)))
        return PV_NONE;
    o->base = base;
    return e->nobjs++;
}

/* Deterministic mode: the clock starts at 2024-01-01T00:00:00Z and advances
 * one nanosecond per guest instruction, plus the time guests sleep. */
#define DET_EPOCH 1704067200ll

int64_t pve_now_ns(pv_emu *e, int realtime)
{
    if (e->opts.deterministic)
        return (realtime ? DET_EPOCH * 1000000000ll : 0) + (int64_t)e->icount + e->sleep_ns;
    struct timespec t;
    clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static bool hook_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    (void)uc;
    (void)size;
    (void)value;
    pv_emu *e = ud;
    e->fault_addr = addr;
    e->fault_type = type;
    return false;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *ud)
{
    pv_emu *e = ud;
    uint64_t pc = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &pc);
    char where[PATH_MAX + 64];
    pve_describe_addr(e, pc, where, sizeof where);
    switch (intno) {
    case 0:
        pve_end(e, "signal", 128 + 8, "the program died of SIGFPE (integer division error) at 0x%llx%s",
                (unsigned long long)pc, where);
        break;
    case 3:
        pve_end(e, "signal", 128 + 5, "the program died of SIGTRAP (int3 breakpoint) at 0x%llx%s",
                (unsigned long long)pc, where);
        break;
    case 0x80:
        pve_end(e, "unsupported", -1, "32-bit system call (int 0x80) at 0x%llx%s: the emulator implements the "
                "x86-64 syscall ABI only", (unsigned long long)pc, where);
        break;
    default:
        pve_end(e, "signal", 128 + 11, "the program died of SIGSEGV (CPU exception %u) at 0x%llx%s", intno,
                (unsigned long long)pc, where);
        break;
    }
}

static void *watchdog(void *arg)
{
    pv_emu *e = arg;
    struct timespec t = {0, 50 * 1000 * 1000};
    while (!__atomic_load_n(&e->ran, __ATOMIC_ACQUIRE)) {
        if (mono() - e->t_start >= e->opts.timeout) {
            __atomic_store_n(&e->timed_out, 1, __ATOMIC_RELEASE);
            /* the block hook's next slow path ends the run; the stop covers a run between hooks, and
             * is repeated every 50 ms in case it came between two emulations */
            __atomic_store_n(&e->event_at, 0, __ATOMIC_RELAXED);
            uc_emu_stop(e->uc);
        }
        nanosleep(&t, NULL);
    }
    return NULL;
}

static const char *bad_options(const pv_emu_options *o)
{
    if (o->version != PV_EMU_OPTIONS_VERSION)
        return "unknown pv_emu_options version (initialize with PV_EMU_OPTIONS_INIT)";
    if (o->argc < 1 || !o->argv || !o->argv[0] || !o->argv[0][0])
        return "no program to run";
    if (o->nallow_read && !o->allow_read)
        return "allow_read is NULL";
    if (o->timeout < 0)
        return "negative timeout";
    if (o->nparams && !o->params)
        return "params is NULL";
    return NULL;
}

void pve_hook_empty(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);

int pv_emu_new(pv_emu **out, const pv_emu_options *opts)
{
    int rc;
    uc_err err;
    *out = NULL;
    const char *why = opts ? bad_options(opts) : "no options";
    if (why)
        return pv_error_set(PV_ERR_INVALID, "emulator: %s", why);
    pv_emu *e = calloc(1, sizeof *e);
    if (!e)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    e->opts = *opts;
    e->exe_arg = (char *)opts->argv[0];
    e->quantum = opts->quantum ? opts->quantum : 100000;
    e->rng = 0x5eed5eed5eed5eedull;
    e->exit_code = -1;
    const char *tr = getenv("PREVISION_TRACE_SYSCALLS");
    e->trace = tr && tr[0] == '1';
    if ((err = uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc))) {
        rc = pv_error_set(PV_ERR_BACKEND, "emulator: cannot open a Unicorn x86-64 engine: %s", uc_strerror(err));
        goto fail;
    }
    if ((err = uc_ctl_set_cpu_model(e->uc, UC_CPU_X86_QEMU64))) {
        rc = pv_error_set(PV_ERR_BACKEND, "emulator: cannot select the qemu64 CPU model: %s", uc_strerror(err));
        goto fail;
    }
    /* Unicorn's default 1 GiB translation buffer makes every flush of the translation cache cost
     * 160 ms (measured: the flush is proportional to the buffer); 64 MiB holds the translations
     * of any program measured here, and a flush costs about 4 ms (docs/emulator.md). */
    if ((err = uc_ctl_set_tcg_buffer_size(e->uc, 64u << 20))) {
        rc = pv_error_set(PV_ERR_BACKEND, "emulator: cannot size the translation buffer: %s", uc_strerror(err));
        goto fail;
    }
    /* Linux's initial state for a process, which Unicorn's reset does not give: SSE state enabled for
     * fxsave/fxrstor (CR4.OSFXSR, OSXMMEXCPT: without them the lazy-binding trampoline loses the
     * XMM argument registers), the default x87 control word and MXCSR. */
    uint64_t cr4 = 0x600, fpcw = 0x37f, mxcsr = 0x1f80;
    if (uc_reg_write(e->uc, UC_X86_REG_CR4, &cr4) || uc_reg_write(e->uc, UC_X86_REG_FPCW, &fpcw) ||
        uc_reg_write(e->uc, UC_X86_REG_MXCSR, &mxcsr)) {
        rc = pv_error_set(PV_ERR_BACKEND, "emulator: cannot set the initial CPU state");
        goto fail;
    }
    if ((rc = pve_blocks_init(e)) || (rc = pve_mem_init(e)) || (rc = pve_sandbox_init(e)) ||
        (rc = pve_fs_init(e)) || (rc = pve_threads_init(e)))
        goto fail;
    if ((rc = pve_load(e)))
        goto fail;
    if ((rc = pve_cache_setup(e)))
        goto fail;
    /* PVE_BENCH_HOOK=none|empty: no block hook, or one that only counts calls, to measure what the
     * engine and the hook dispatch cost by themselves (bench/emu_speed.sh); the profile has no counts */
    const char *nc = getenv("PVE_BENCH_HOOK");
    void *bh = (void *)pve_hook_block;
    if (nc && !strcmp(nc, "empty"))
        bh = (void *)pve_hook_empty;
    if ((!(nc && !strcmp(nc, "none")) && (err = uc_hook_add(e->uc, &e->h_block, UC_HOOK_BLOCK, bh, e, 1, 0))) ||
        (err = uc_hook_add(e->uc, &e->h_syscall, UC_HOOK_INSN, (void *)pve_hook_syscall, e, 1, 0,
                           UC_X86_INS_SYSCALL)) ||
        (err = uc_hook_add(e->uc, &e->h_invalid, UC_HOOK_MEM_INVALID, (void *)hook_invalid, e, 1, 0)) ||
        (err = uc_hook_add(e->uc, &e->h_intr, UC_HOOK_INTR, (void *)hook_intr, e, 1, 0))) {
        rc = pv_error_set(PV_ERR_BACKEND, "emulator: cannot install hooks: %s", uc_strerror(err));
        goto fail;
    }
    *out = e;
    return PV_OK;
fail:
    pv_emu_free(e);
    return rc;
}

void pve_hook_empty(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc;
    (void)addr;
    (void)size;
    ((pv_emu *)ud)->icount++;
}

static void end_on_error(pv_emu *e, uc_err err)
{
    uint64_t pc = 0;
    uc_reg_read(e->uc, UC_X86_REG_RIP, &pc);
    char where[PATH_MAX + 64];
    pve_describe_addr(e, pc, where, sizeof where);
    if (err == UC_ERR_INSN_INVALID) {
        pv_decoder_options o = PV_DECODER_OPTIONS_INIT;
        pv_decoder *d = NULL;
        pv_insn in;
        uint8_t code[16];
        memset(&in, 0, sizeof in);
        int ok = 0;
        if (pve_mem_read(e, pc, code, sizeof code) == 0 ||
            pve_mem_read(e, pc, code, PVE_PAGE_UP(pc + 1) - pc) == 0) {
            if (pv_decoder_new(&d, &o) == PV_OK)
                ok = pv_decode_insn(d, code, sizeof code, pc, &in) == PV_OK;
        }
        pv_decoder_free(d);
        if (ok && (in.flags & PV_INSN_TCG_UNSUPPORTED))
            pve_end(e, "unsupported", -1, "%s instruction '%s' at 0x%llx%s: the emulator cannot execute %s; rebuild "
                    "the program for the x86-64 baseline (-march=x86-64) to profile it", in.ext, in.text,
                    (unsigned long long)pc, where, in.ext);
        else if (ok && in.flow == PV_FLOW_HALT)
            pve_end(e, "signal", 128 + 4, "the program died of SIGILL ('%s') at 0x%llx%s", in.text,
                    (unsigned long long)pc, where);
        else if (ok)
            pve_end(e, "unsupported", -1, "instruction '%s' at 0x%llx%s is not available on the emulated CPU "
                    "(qemu64: x86-64 baseline with SSE3); rebuild the program for -march=x86-64 to profile it",
                    in.text, (unsigned long long)pc, where);
        else
            pve_end(e, "signal", 128 + 4, "the program died of SIGILL (invalid instruction bytes) at 0x%llx%s",
                    (unsigned long long)pc, where);
        return;
    }
    const char *what = "access";
    switch (err) {
    case UC_ERR_READ_UNMAPPED:
    case UC_ERR_READ_PROT:
    case UC_ERR_READ_UNALIGNED: what = "read"; break;
    case UC_ERR_WRITE_UNMAPPED:
    case UC_ERR_WRITE_PROT:
    case UC_ERR_WRITE_UNALIGNED: what = "write"; break;
    case UC_ERR_FETCH_UNMAPPED:
    case UC_ERR_FETCH_PROT:
    case UC_ERR_FETCH_UNALIGNED: what = "instruction fetch"; break;
    default:
        pve_end(e, "fault", 128 + 11, "the emulation stopped at 0x%llx%s: %s", (unsigned long long)pc, where,
                uc_strerror(err));
        return;
    }
    pve_end(e, "fault", 128 + 11, "the program died of SIGSEGV: invalid %s at 0x%llx by the instruction at 0x%llx%s",
            what, (unsigned long long)e->fault_addr, (unsigned long long)pc, where);
}

static int copy_result(pv_emu *e, pv_dynamic **out)
{
    int rc = PV_OK;
    uint32_t *rowof = NULL;
    pv_dynamic *d = calloc(1, sizeof *d);
    if (!d)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    d->nargs = (uint32_t)e->opts.argc;
    if (!(d->argv = calloc(d->nargs, sizeof *d->argv)))
        goto nomem;
    for (uint32_t i = 0; i < d->nargs; i++)
        if (!(d->argv[i] = strdup(e->opts.argv[i])))
            goto nomem;
    if (e->opts.nparams) {
        if (!(d->params = calloc(e->opts.nparams, sizeof *d->params)))
            goto nomem;
        for (uint32_t i = 0; i < e->opts.nparams; i++, d->nparams++)
            if (!(d->params[i].key = strdup(e->opts.params[i].key)) ||
                !(d->params[i].value = strdup(e->opts.params[i].value)))
                goto nomem;
    }
    if ((rc = pve_blocks_result(e, d, &rowof)))
        goto done;
    if (!(d->objects = calloc(e->nobjs ? e->nobjs : 1, sizeof *d->objects)))
        goto nomem;
    for (uint32_t i = 0; i < e->nobjs; i++, d->nobjects++) {
        if (!(d->objects[i].path = strdup(e->objs[i].path)))
            goto nomem;
        d->objects[i].base = e->objs[i].base;
        d->objects[i].is_target = e->objs[i].is_target;
    }
    d->mem_peak = e->mem.peak;
    d->mem_touched = pve_mem_touched(e);
    d->heap_peak = e->mem.brk_peak - e->mem.brk_start;
    d->stack_peak = pve_mem_stack_depth(e);
    if ((rc = pve_cache_result(e, d, rowof)))
        goto done;
    d->io_bytes_read = e->io_read;
    d->io_bytes_written = e->io_written;
    d->io_files_opened = e->files_opened;
    d->syscalls = e->syscalls;
    if (e->nrefused) {
        if (!(d->refused = calloc(e->nrefused, sizeof *d->refused)))
            goto nomem;
        for (uint32_t i = 0; i < e->nrefused; i++, d->nrefused++) {
            if (!(d->refused[i].name = strdup(e->refused[i].name)))
                goto nomem;
            d->refused[i].nr = (int32_t)e->refused[i].nr;
            d->refused[i].count = e->refused[i].count;
        }
    }
    if (!(d->threads = calloc(e->nthreads ? e->nthreads : 1, sizeof *d->threads)))
        goto nomem;
    for (uint32_t i = 0; i < e->nthreads; i++, d->nthreads++) {
        d->threads[i].tid = e->threads[i]->tid;
        d->threads[i].insns = e->threads[i]->insns;
    }
    d->exit_code = e->exit_code;
    if (!(d->end_reason = strdup(e->end_reason[0] ? e->end_reason : "exit")))
        goto nomem;
    d->deterministic = e->opts.deterministic;
    d->emu_seconds = e->opts.deterministic ? 0 : mono() - e->t_start;
    *out = d;
    d = NULL;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
done:
    free(rowof);
    pv_dynamic_free(d);
    return rc;
}

int pv_emu_run(pv_emu *e, pv_dynamic **out)
{
    *out = NULL;
    if (!e || e->ran)
        return pv_error_set(PV_ERR_INVALID, "emulator: pv_emu_run called twice on one emulator");
    pthread_t dog;
    int have_dog = 0;
    e->t_start = mono();
    if (e->opts.timeout > 0)
        have_dog = pthread_create(&dog, NULL, watchdog, e) == 0;
    for (;;) {
        if (__atomic_load_n(&e->timed_out, __ATOMIC_ACQUIRE)) {
            pve_end(e, "limit:time", -1, "time limit reached after %.1f s (--timeout)", e->opts.timeout);
            break;
        }
        e->stop = PVE_STOP_NONE;
        pve_blocks_event(e);
        uint64_t pc = 0;
        uc_reg_read(e->uc, UC_X86_REG_RIP, &pc);
        e->have_resume = 0;
        uc_err err = uc_emu_start(e->uc, pc, UNTIL, 0, 0);
        if (e->have_resume)
            uc_reg_write(e->uc, UC_X86_REG_RIP, &e->resume_pc);
        if (e->stop == PVE_STOP_END)
            break;
        if (err) {
            pve_thread_account(e);
            end_on_error(e, err);
            break;
        }
        if (__atomic_load_n(&e->timed_out, __ATOMIC_ACQUIRE)) {
            pve_end(e, "limit:time", -1, "time limit reached after %.1f s (--timeout)", e->opts.timeout);
            break;
        }
        if (e->stop == PVE_STOP_HOOKS) {
            if (pve_cache_apply_hooks(e)) {
                pve_end(e, "fault", -1, "%s", pv_error_last());
                break;
            }
            continue;
        }
        if (e->stop == PVE_STOP_SWITCH) {
            if (pve_schedule(e))
                break;
            continue;
        }
        /* stopped by itself: hlt (a privileged instruction: SIGSEGV in user mode) */
        uc_reg_read(e->uc, UC_X86_REG_RIP, &pc);
        char where[PATH_MAX + 64];
        pve_describe_addr(e, pc, where, sizeof where);
        pve_end(e, "signal", 128 + 11, "the program died of SIGSEGV (privileged instruction hlt) near 0x%llx%s",
                (unsigned long long)pc, where);
        break;
    }
    pve_thread_account(e);
    __atomic_store_n(&e->ran, 1, __ATOMIC_RELEASE);
    if (have_dog)
        pthread_join(dog, NULL);
    if (!strcmp(e->end_reason, "exit"))
        snprintf(e->end_msg, sizeof e->end_msg, "the program exited with status %d", e->exit_code);
    return copy_result(e, out);
}

const char *pv_emu_end_message(const pv_emu *e) { return e ? e->end_msg : ""; }

const char *pv_emu_scratch_dir(const pv_emu *e) { return e ? e->scratch : ""; }

const char *pv_emu_program(const pv_emu *e) { return e && e->exe_path ? e->exe_path : ""; }

int pv_emu_target(const pv_emu *e, pv_target *t)
{
    memset(t, 0, sizeof *t);
    t->path = strdup(e->exe_arg);
    t->arch = strdup("x86_64");
    const char *kind = e->exe->type == ET_EXEC ? (e->interp ? "exec" : "static") : (e->interp ? "pie" : "static");
    t->kind = strdup(kind);
    t->entry = e->exe->entry;
    if (!t->path || !t->arch || !t->kind)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    return PV_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void pv_emu_free(pv_emu *e)
{
    if (!e)
        return;
    pve_threads_fini(e);
    if (e->uc)
        uc_close(e->uc);
    pve_mem_fini(e);
    pve_blocks_fini(e);
    pve_cache_fini(e);
    pve_fs_fini(e);
    if (e->made_scratch && !e->opts.keep_scratch && e->scratch[0])
        nftw(e->scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (uint32_t i = 0; i < e->nobjs; i++)
        free(e->objs[i].path);
    free(e->objs);
    for (size_t i = 0; i < e->nallow; i++)
        free(e->allow[i]);
    free(e->allow);
    free(e->refused);
    free(e->exe);
    free(e->interp);
    free(e->exe_path);
    free(e->interp_path);
    free(e);
}
