/* Guest threads on the one Unicorn engine.
 *
 * clone(CLONE_VM|CLONE_THREAD...) creates a thread whose registers start as
 * a copy of its parent's (Unicorn contexts: general, segment bases, x87,
 * SSE). One thread runs at a time; it keeps the CPU until it blocks in a
 * futex wait, exits, yields, or has run a quantum of instructions (counted
 * by the block hook); then the next runnable thread in creation order runs.
 * The schedule therefore depends only on the instruction stream, never on
 * host timing, and two runs of a program interleave its threads
 * identically. Futex waits with a timeout that nothing wakes end when every
 * thread is blocked: virtual time jumps to the earliest deadline. */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static pve_thread *thread_new(pv_emu *e, uint32_t tid)
{
    if (e->nthreads == e->capthreads) {
        uint32_t cap = e->capthreads ? e->capthreads * 2 : 8;
        pve_thread **n = realloc(e->threads, cap * sizeof *n);
        if (!n)
            return NULL;
        e->threads = n;
        e->capthreads = cap;
    }
    pve_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->tid = tid;
    t->deadline = -1;
    e->threads[e->nthreads++] = t;
    return t;
}

int pve_threads_init(pv_emu *e)
{
    e->pid = e->opts.deterministic ? 1000 : (uint32_t)getpid();
    e->next_tid = e->pid + 1;
    if (!thread_new(e, e->pid))
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    e->cur = 0;
    return PV_OK;
}

void pve_threads_fini(pv_emu *e)
{
    for (uint32_t i = 0; i < e->nthreads; i++) {
        if (e->threads[i]->ctx)
            uc_context_free(e->threads[i]->ctx);
        free(e->threads[i]);
    }
    free(e->threads);
    e->threads = NULL;
    e->nthreads = 0;
}

void pve_thread_account(pv_emu *e)
{
    if (e->cur < e->nthreads)
        e->threads[e->cur]->insns += e->icount - e->run_start;
    e->run_start = e->icount;
}

static uint32_t live_threads(pv_emu *e)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->nthreads; i++)
        n += e->threads[i]->state != PVE_T_EXITED;
    return n;
}

int64_t pve_sys_clone(pv_emu *e, const uint64_t *a)
{
    uint64_t flags = a[0], stack = a[1], ptid = a[2], ctid = a[3], tls = a[4];
    const uint64_t need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    if ((flags & need) != need || (flags & CLONE_VFORK)) {
        /* a new process (fork, vfork, posix_spawn): not in the sandbox */
        pve_refuse(e, SYS_clone);
        return -EPERM;
    }
    uint64_t rip = 0;
    uc_reg_read(e->uc, UC_X86_REG_RIP, &rip);
    uint8_t insn[2] = {0};
    /* the hook may see RIP at the syscall instruction or just after it */
    if (pve_mem_read(e, rip, insn, 2) || insn[0] != 0x0f || insn[1] != 0x05)
        rip -= 2;
    pve_thread *t = thread_new(e, e->next_tid);
    if (!t)
        return -ENOMEM;
    if (uc_context_alloc(e->uc, &t->ctx) || uc_context_save(e->uc, t->ctx)) {
        e->nthreads--;
        free(t);
        return -ENOMEM;
    }
    e->next_tid++;
    uint64_t next = rip + 2, zero = 0;
    uc_context_reg_write(t->ctx, UC_X86_REG_RIP, &next);
    uc_context_reg_write(t->ctx, UC_X86_REG_RAX, &zero);
    if (stack)
        uc_context_reg_write(t->ctx, UC_X86_REG_RSP, &stack);
    if (flags & CLONE_SETTLS)
        uc_context_reg_write(t->ctx, UC_X86_REG_FS_BASE, &tls);
    uint32_t tid = t->tid;
    if ((flags & CLONE_PARENT_SETTID) && pve_mem_write(e, ptid, &tid, 4))
        return -EFAULT;
    if ((flags & CLONE_CHILD_SETTID) && pve_mem_write(e, ctid, &tid, 4))
        return -EFAULT;
    if (flags & CLONE_CHILD_CLEARTID)
        t->clear_tid = ctid;
    pve_blocks_event(e); /* quanta start now that there are two threads */
    return tid;
}

int pve_futex_wake(pv_emu *e, uint64_t addr, int n, uint32_t bitset)
{
    int woken = 0;
    while (woken < n) {
        pve_thread *best = NULL;
        for (uint32_t i = 0; i < e->nthreads; i++) {
            pve_thread *t = e->threads[i];
            if (t->state == PVE_T_FUTEX && t->futex == addr && (t->bitset & bitset) &&
                (!best || t->wait_seq < best->wait_seq))
                best = t;
        }
        if (!best)
            break;
        best->state = PVE_T_RUNNABLE;
        best->has_result = 1;
        best->result = 0;
        best->deadline = -1;
        woken++;
    }
    return woken;
}

static int64_t futex_wait(pv_emu *e, uint64_t addr, uint32_t val, uint64_t utime, int absolute, int realtime,
                          uint32_t bitset)
{
    uint32_t cur;
    if (addr & 3)
        return -EINVAL;
    if (pve_mem_read(e, addr, &cur, 4))
        return -EFAULT;
    if (cur != val)
        return -EAGAIN;
    int64_t deadline = -1;
    if (utime) {
        struct timespec ts;
        if (pve_mem_read(e, utime, &ts, sizeof ts))
            return -EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
            return -EINVAL;
        int64_t ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
        /* deadlines are kept on the monotonic clock */
        deadline = absolute ? ns - (realtime ? pve_now_ns(e, 1) - pve_now_ns(e, 0) : 0) : pve_now_ns(e, 0) + ns;
        if (deadline <= pve_now_ns(e, 0))
            return -ETIMEDOUT;
    }
    pve_thread *t = e->threads[e->cur];
    t->state = PVE_T_FUTEX;
    t->futex = addr;
    t->bitset = bitset;
    t->deadline = deadline;
    t->timeout_result = (uint64_t)(int64_t)-ETIMEDOUT;
    t->wait_seq = e->wait_seq++;
    t->has_result = 0;
    pve_request_stop(e, PVE_STOP_SWITCH);
    return 0;
}

void pve_thread_sleep(pv_emu *e, int64_t deadline)
{
    pve_thread *t = e->threads[e->cur];
    t->state = PVE_T_SLEEP;
    t->deadline = deadline;
    t->timeout_result = 0;
    t->has_result = 1;
    t->result = 0;
    pve_request_stop(e, PVE_STOP_SWITCH);
}

static void wake_timed_out(pve_thread *t)
{
    t->state = PVE_T_RUNNABLE;
    t->has_result = 1;
    t->result = t->timeout_result;
    t->deadline = -1;
}

int64_t pve_sys_futex(pv_emu *e, const uint64_t *a)
{
    uint64_t addr = a[0];
    int op = (int)a[1];
    int cmd = op & FUTEX_CMD_MASK;
    int realtime = (op & FUTEX_CLOCK_REALTIME) != 0;
    uint32_t val = (uint32_t)a[2];
    switch (cmd) {
    case FUTEX_WAIT: return futex_wait(e, addr, val, a[3], 0, 0, FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAIT_BITSET:
        if (!(uint32_t)a[5])
            return -EINVAL;
        return futex_wait(e, addr, val, a[3], 1, realtime, (uint32_t)a[5]);
    case FUTEX_WAKE: return pve_futex_wake(e, addr, (int)val, FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
        if (!(uint32_t)a[5])
            return -EINVAL;
        return pve_futex_wake(e, addr, (int)val, (uint32_t)a[5]);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
        if (cmd == FUTEX_CMP_REQUEUE) {
            uint32_t cur;
            if (pve_mem_read(e, addr, &cur, 4))
                return -EFAULT;
            if (cur != (uint32_t)a[5])
                return -EAGAIN;
        }
        int n = pve_futex_wake(e, addr, (int)val, FUTEX_BITSET_MATCH_ANY);
        uint64_t moved = 0, limit = a[3];
        for (uint32_t i = 0; i < e->nthreads && moved < limit; i++) {
            pve_thread *t = e->threads[i];
            if (t->state == PVE_T_FUTEX && t->futex == addr) {
                t->futex = a[4];
                moved++;
            }
        }
        return n + (int64_t)moved;
    }
    default: pve_refuse(e, SYS_futex); return -ENOSYS;
    }
}

void pve_thread_exit(pv_emu *e, int group, int code)
{
    if (group || live_threads(e) <= 1) {
        pve_end(e, "exit", code, "the program exited with status %d", code);
        return;
    }
    pve_thread *t = e->threads[e->cur];
    if (t->clear_tid) {
        uint32_t zero = 0;
        if (pve_mem_write(e, t->clear_tid, &zero, 4) == 0)
            pve_futex_wake(e, t->clear_tid, 1, FUTEX_BITSET_MATCH_ANY);
    }
    t->state = PVE_T_EXITED;
    pve_request_stop(e, PVE_STOP_SWITCH);
}

int pve_schedule(pv_emu *e)
{
    pve_thread_account(e);
    pve_thread *cur = e->threads[e->cur];
    if (cur->state != PVE_T_EXITED) {
        if (!cur->ctx && uc_context_alloc(e->uc, &cur->ctx)) {
            pve_end(e, "fault", -1, "emulator: out of memory for a thread context");
            return -1;
        }
        uc_context_save(e->uc, cur->ctx);
    }
    uint32_t n = e->nthreads, next = UINT32_MAX;
    /* sleeps and futex timeouts that have passed */
    int64_t now = pve_now_ns(e, 0);
    for (uint32_t i = 0; i < n; i++) {
        pve_thread *w = e->threads[i];
        if ((w->state == PVE_T_FUTEX || w->state == PVE_T_SLEEP) && w->deadline >= 0 && w->deadline <= now)
            wake_timed_out(w);
    }
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t i = (e->cur + k) % n;
        if (e->threads[i]->state == PVE_T_RUNNABLE) {
            next = i;
            break;
        }
    }
    if (next == UINT32_MAX) {
        /* everyone waits: time passes until the earliest sleep or futex timeout ends */
        pve_thread *best = NULL;
        for (uint32_t i = 0; i < n; i++) {
            pve_thread *t = e->threads[i];
            if ((t->state == PVE_T_FUTEX || t->state == PVE_T_SLEEP) && t->deadline >= 0 &&
                (!best || t->deadline < best->deadline))
                best = t;
        }
        if (!best) {
            pve_end(e, "deadlock", -1, "deadlock: %s wait%s on futexes that no thread can wake",
                    live_threads(e) > 1 ? "all threads" : "the only thread", live_threads(e) > 1 ? "" : "s");
            return -1;
        }
        if (best->deadline > now) {
            if (e->opts.deterministic) {
                e->sleep_ns += best->deadline - now;
            } else {
                int64_t d = best->deadline - now;
                struct timespec ts = {(time_t)(d / 1000000000), (long)(d % 1000000000)};
                nanosleep(&ts, NULL);
            }
        }
        wake_timed_out(best);
        for (uint32_t i = 0; i < n; i++)
            if (e->threads[i] == best)
                next = i;
    }
    pve_thread *t = e->threads[next];
    if (t->ctx)
        uc_context_restore(e->uc, t->ctx);
    if (t->has_result) {
        uc_reg_write(e->uc, UC_X86_REG_RAX, &t->result);
        t->has_result = 0;
    }
    e->cur = next;
    e->run_start = e->icount;
    pve_blocks_event(e);
    return 0;
}
