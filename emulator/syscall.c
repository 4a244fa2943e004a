/* The system call layer: the UC_HOOK_INSN callback for `syscall`, the
 * allowlist, and the calls on memory, time, identity and signals. Files are
 * in syscall_fs.c, threads and futexes in thread.c.
 *
 * Answers to calls that are not on the allowlist (docs/emulator.md lists
 * it): -EPERM for what the sandbox forbids (sockets, exec, fork, ptrace,
 * signals to other processes, mounts...), -ENOSYS for everything else; both
 * are counted by name in the profile's refused_syscalls. Two calls glibc
 * probes at every start are answered -ENOSYS without being counted, as
 * features this kernel lacks: rseq and clone3 (glibc falls back to clone). */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "prevision/log.h"

#include "internal.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

void pve_refuse(pv_emu *e, uint64_t nr)
{
    for (uint32_t i = 0; i < e->nrefused; i++)
        if (e->refused[i].nr == nr) {
            e->refused[i].count++;
            return;
        }
    if (e->nrefused == e->caprefused) {
        uint32_t cap = e->caprefused ? e->caprefused * 2 : 8;
        pve_refused *n = realloc(e->refused, cap * sizeof *n);
        if (!n)
            return;
        e->refused = n;
        e->caprefused = cap;
    }
    const char *name = pve_syscall_name(nr);
    e->refused[e->nrefused++] = (pve_refused){(uint32_t)nr, name ? name : "unknown", 1};
}

void pve_random_bytes(pv_emu *e, void *buf, size_t n)
{
    uint8_t *p = buf;
    if (!e->opts.deterministic) {
        while (n) {
            ssize_t r = getrandom(p, n, 0);
            if (r <= 0)
                break;
            p += r;
            n -= (size_t)r;
        }
        if (!n)
            return;
    }
    while (n) { /* splitmix64: fixed seed in deterministic mode */
        uint64_t z = (e->rng += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t k = n < 8 ? n : 8;
        memcpy(p, &z, k);
        p += k;
        n -= k;
    }
}

static int64_t sys_mmap(pv_emu *e, const uint64_t *a)
{
    uint64_t addr = a[0], len = a[1];
    int prot = (int)a[2], flags = (int)a[3], fd = (int)a[4];
    uint64_t off = a[5];
    if (!len || (off & (PVE_PAGE - 1)))
        return -EINVAL;
    len = PVE_PAGE_UP(len);
    if (!len || len > (1ull << 46))
        return -ENOMEM;
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    pve_file *f = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        f = pve_fs_get(e, fd);
        if (!f)
            return -EBADF;
        if (f->kind == PVE_FD_NULL)
            flags |= MAP_ANONYMOUS; /* /dev/zero */
        else if (f->kind != PVE_FD_HOST || f->stdio)
            return -ENODEV;
        else if (type != MAP_PRIVATE && (prot & PROT_WRITE)) {
            /* a shared writable file mapping would write the host file behind the sandbox's back */
            pve_refuse(e, SYS_mmap);
            return -EACCES;
        } else if (!f->readable)
            return -EACCES;
    }
    uint64_t at;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (addr & (PVE_PAGE - 1))
            return -EINVAL;
        if (addr < 0x10000 || addr + len > 0x7ffffffff000ull || addr + len < addr)
            return -ENOMEM;
        if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !pve_mem_is_free(e, addr, len))
            return -EEXIST;
        at = addr;
    } else {
        at = pve_mem_find_free(e, addr, len);
        if (!at)
            return -ENOMEM;
    }
    int kind = (flags & MAP_STACK) || (flags & MAP_GROWSDOWN) ? PVE_VMA_STACK : PVE_VMA_ANON;
    if (e->opts.max_mem && prot != PROT_NONE && kind != PVE_VMA_STACK && e->mem.mapped + len > e->opts.max_mem) {
        pve_end(e, "limit:mem", -1, "memory limit reached: mapping %llu more bytes would map %llu, over --max-mem "
                "%llu", (unsigned long long)len, (unsigned long long)(e->mem.mapped + len),
                (unsigned long long)e->opts.max_mem);
        return -ENOMEM;
    }
    int rc;
    if (flags & MAP_ANONYMOUS) {
        rc = pve_mem_map(e, at, len, (uint32_t)prot, kind, -1, 0, 0, PV_NONE);
    } else {
        struct stat st;
        if (fstat(f->host, &st))
            return -errno;
        uint64_t fsize = (uint64_t)st.st_size;
        uint64_t flen = off < fsize ? fsize - off : 0;
        /* an ELF file mapped executable is an object: its load bias maps runtime addresses back */
        uint32_t obj = PV_NONE;
        if (prot & PROT_EXEC) {
            uint8_t hdr[4096];
            ssize_t n = pread(f->host, hdr, sizeof hdr, 0);
            pve_elf elf;
            if (n > 0 && pve_elf_parse_headers(hdr, (size_t)n, fsize, &elf) == PV_OK) {
                uint64_t link = pve_elf_offset_to_vaddr(&elf, off);
                if (link != UINT64_MAX && f->hpath)
                    obj = pve_object_add(e, f->hpath, at - link);
            }
        }
        rc = pve_mem_map(e, at, len, (uint32_t)prot, PVE_VMA_FILE, f->host, off, flen, obj);
        /* later mappings of the same file (its other segments) belong to the same object */
    }
    if (rc) {
        pv_error_clear();
        return -ENOMEM;
    }
    return (int64_t)at;
}

static int64_t sys_arch_prctl(pv_emu *e, uint64_t code, uint64_t addr)
{
    uint64_t v;
    switch (code) {
    case ARCH_SET_FS: return uc_reg_write(e->uc, UC_X86_REG_FS_BASE, &addr) ? -EINVAL : 0;
    case ARCH_SET_GS: return uc_reg_write(e->uc, UC_X86_REG_GS_BASE, &addr) ? -EINVAL : 0;
    case ARCH_GET_FS:
        uc_reg_read(e->uc, UC_X86_REG_FS_BASE, &v);
        return pve_mem_write(e, addr, &v, 8) ? -EFAULT : 0;
    case ARCH_GET_GS:
        uc_reg_read(e->uc, UC_X86_REG_GS_BASE, &v);
        return pve_mem_write(e, addr, &v, 8) ? -EFAULT : 0;
    default: return -EINVAL; /* CET and others: not available */
    }
}

static int64_t put_timespec(pv_emu *e, uint64_t addr, int64_t ns)
{
    struct timespec t = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return pve_mem_write(e, addr, &t, sizeof t) ? -EFAULT : 0;
}

static int realtime_clock(uint64_t id)
{
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE || id == CLOCK_TAI;
}

static int64_t sys_nanosleep(pv_emu *e, uint64_t req, uint64_t rem, int abs, int clk)
{
    struct timespec t;
    if (pve_mem_read(e, req, &t, sizeof t))
        return -EFAULT;
    if (t.tv_nsec < 0 || t.tv_nsec >= 1000000000 || t.tv_sec < 0)
        return -EINVAL;
    int64_t ns = (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
    if (abs)
        ns -= pve_now_ns(e, realtime_clock((uint64_t)clk));
    if (ns <= 0)
        return 0;
    if (rem && !abs)
        put_timespec(e, rem, 0);
    /* the other threads run meanwhile; when none can, time jumps (deterministic) or passes (real) */
    pve_thread_sleep(e, pve_now_ns(e, 0) + ns);
    return 0;
}

static int64_t sys_rlimit(pv_emu *e, uint64_t res, uint64_t newp, uint64_t oldp)
{
    (void)newp; /* setting limits is accepted and ignored: the emulator enforces its own */
    if (!oldp)
        return 0;
    struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
    switch (res) {
    case RLIMIT_STACK: r.rlim_cur = 8 << 20; break;
    case RLIMIT_NOFILE: r.rlim_cur = r.rlim_max = PVE_MAX_FDS; break;
    case RLIMIT_AS:
    case RLIMIT_DATA:
        if (e->opts.max_mem)
            r.rlim_cur = r.rlim_max = e->opts.max_mem;
        break;
    case RLIMIT_CORE: r.rlim_cur = 0; break;
    case RLIMIT_NPROC: r.rlim_cur = r.rlim_max = 4096; break;
    case RLIMIT_MEMLOCK: r.rlim_cur = r.rlim_max = 8 << 20; break;
    case RLIMIT_SIGPENDING: r.rlim_cur = r.rlim_max = 4096; break;
    case RLIMIT_MSGQUEUE: r.rlim_cur = r.rlim_max = 819200; break;
    case RLIMIT_NICE:
    case RLIMIT_RTPRIO: r.rlim_cur = r.rlim_max = 0; break;
    default: break;
    }
    if (res >= RLIM_NLIMITS)
        return -EINVAL;
    return pve_mem_write(e, oldp, &r, sizeof r) ? -EFAULT : 0;
}

static int ncpus(pv_emu *e)
{
    if (e->opts.ncpus > 0)
        return e->opts.ncpus;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int64_t sys_kill(pv_emu *e, uint64_t nr, int64_t pid, int64_t tid, int sig)
{
    int self = pid == e->pid || pid == 0 || pid == -1 * (int64_t)e->pid;
    if (nr != SYS_kill) {
        /* tgkill(tgid, tid) / tkill(tid) */
        self = 0;
        int64_t t = nr == SYS_tkill ? pid : tid;
        if (nr == SYS_tkill || pid == e->pid)
            for (uint32_t i = 0; i < e->nthreads; i++)
                if (e->threads[i]->tid == t && e->threads[i]->state != PVE_T_EXITED)
                    self = 1;
    }
    if (!self) {
        pve_refuse(e, nr);
        return -EPERM;
    }
    if (sig == 0)
        return 0;
    if (sig < 1 || sig > 64)
        return -EINVAL;
    /* No signal is delivered to guest handlers; default actions: ignore these, terminate on the rest. */
    if (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT)
        return 0;
    const char *abbrev = sigabbrev_np(sig);
    pve_end(e, "signal", 128 + sig, "the program died of SIG%s (signal %d, sent to itself%s)", abbrev ? abbrev : "?",
            sig, sig == SIGABRT ? " by abort()" : "");
    return 0;
}

static int64_t dispatch(pv_emu *e, uint64_t nr, const uint64_t *a)
{
    int64_t r;
    if (pve_fs_syscall(e, nr, a, &r))
        return r;
    switch (nr) {
    /* memory */
    case SYS_brk: return pve_mem_brk(e, a[0]);
    case SYS_mmap: return sys_mmap(e, a);
    case SYS_munmap:
        if ((a[0] & (PVE_PAGE - 1)) || !a[1])
            return -EINVAL;
        return pve_mem_unmap(e, a[0], PVE_PAGE_UP(a[1])) ? -ENOMEM : 0;
    case SYS_mprotect:
        if (a[0] & (PVE_PAGE - 1))
            return -EINVAL;
        return a[1] ? pve_mem_protect(e, a[0], PVE_PAGE_UP(a[1]), (uint32_t)a[2]) : 0;
    case SYS_mremap: return pve_mem_mremap(e, a[0], a[1], a[2], (int)a[3], a[4]);
    case SYS_madvise:
        if (a[2] == MADV_DONTNEED || a[2] == MADV_FREE) {
            /* the contents must read back as zeros (anonymous) or as the file: the host does exactly that */
            for (uint64_t p = PVE_PAGE_DOWN(a[0]); p < a[0] + a[1];) {
                pve_vma *v = pve_mem_find(e, p);
                if (!v)
                    break;
                uint64_t t = v->end < a[0] + a[1] ? v->end : PVE_PAGE_UP(a[0] + a[1]);
                madvise(v->host + (p - v->start), t - p, MADV_DONTNEED);
                p = t;
            }
        }
        return 0;
    case SYS_msync:
    case SYS_mlock:
    case SYS_munlock:
    case SYS_mlockall:
    case SYS_munlockall: return 0;
    /* threads and processes */
    case SYS_clone: return pve_sys_clone(e, a);
    case SYS_clone3: return -ENOSYS;
    case SYS_futex: return pve_sys_futex(e, a);
    case SYS_set_tid_address:
        e->threads[e->cur]->clear_tid = a[0];
        return e->threads[e->cur]->tid;
    case SYS_set_robust_list:
        if (a[1] != 24)
            return -EINVAL;
        e->threads[e->cur]->robust_list = a[0];
        return 0;
    case SYS_get_robust_list: return -EPERM;
    case SYS_rseq: return -ENOSYS;
    case SYS_exit: pve_thread_exit(e, 0, (int)(a[0] & 0xff)); return 0;
    case SYS_exit_group: pve_thread_exit(e, 1, (int)(a[0] & 0xff)); return 0;
    case SYS_sched_yield: pve_request_stop(e, PVE_STOP_SWITCH); return 0;
    case SYS_getpid: return e->pid;
    case SYS_gettid: return e->threads[e->cur]->tid;
    case SYS_getppid: return e->opts.deterministic ? 1 : getppid();
    case SYS_getuid: return e->opts.deterministic ? 1000 : getuid();
    case SYS_geteuid: return e->opts.deterministic ? 1000 : geteuid();
    case SYS_getgid: return e->opts.deterministic ? 1000 : getgid();
    case SYS_getegid: return e->opts.deterministic ? 1000 : getegid();
    case SYS_getpgrp:
    case SYS_getsid: return e->pid;
    case SYS_getpgid: return a[0] == 0 || a[0] == e->pid ? (int64_t)e->pid : -ESRCH;
    case SYS_getgroups: return 0;
    case SYS_getresuid:
    case SYS_getresgid: {
        uint32_t id = e->opts.deterministic ? 1000 : (nr == SYS_getresuid ? getuid() : getgid());
        for (int i = 0; i < 3; i++)
            if (pve_mem_write(e, a[i], &id, 4))
                return -EFAULT;
        return 0;
    }
    case SYS_wait4:
    case SYS_waitid: return -ECHILD;
    case SYS_kill: return sys_kill(e, nr, (int64_t)(int32_t)a[0], 0, (int)a[1]);
    case SYS_tkill: return sys_kill(e, nr, (int64_t)(int32_t)a[0], 0, (int)a[1]);
    case SYS_tgkill: return sys_kill(e, nr, (int64_t)(int32_t)a[0], (int64_t)(int32_t)a[1], (int)a[2]);
    case SYS_rt_sigaction:
        /* handlers are recorded by nobody: signals are never delivered to the guest */
        if (a[2]) {
            uint8_t zero[32] = {0};
            if (pve_mem_write(e, a[2], zero, a[3] + 24 > 32 ? 32 : a[3] + 24))
                return -EFAULT;
        }
        return a[0] >= 1 && a[0] <= 64 ? 0 : -EINVAL;
    case SYS_rt_sigprocmask:
        if (a[2]) {
            uint64_t zero = 0;
            if (pve_mem_write(e, a[2], &zero, 8))
                return -EFAULT;
        }
        return 0;
    case SYS_sigaltstack:
        if (a[1]) {
            stack_t ss = {.ss_flags = SS_DISABLE};
            if (pve_mem_write(e, a[1], &ss, sizeof ss))
                return -EFAULT;
        }
        return 0;
    case SYS_prctl:
        if (a[0] == PR_SET_NAME || a[0] == PR_GET_NAME) {
            if (a[0] == PR_GET_NAME && pve_mem_write(e, a[1], "guest\0\0\0\0\0\0\0\0\0\0", 16))
                return -EFAULT;
            return 0;
        }
        return -EINVAL;
    case SYS_arch_prctl: return sys_arch_prctl(e, a[0], a[1]);
    case SYS_sched_getaffinity: {
        uint64_t size = a[1];
        if (size < 8 || (size & 7))
            return -EINVAL;
        uint8_t mask[128] = {0};
        int n = ncpus(e);
        if (n > 1024)
            n = 1024;
        for (int i = 0; i < n; i++)
            mask[i / 8] |= (uint8_t)(1u << (i % 8));
        uint64_t len = size < sizeof mask ? size : sizeof mask;
        return pve_mem_write(e, a[2], mask, len) ? -EFAULT : (int64_t)len;
    }
    case SYS_sched_setaffinity:
    case SYS_sched_setscheduler:
    case SYS_sched_setparam:
    case SYS_setpriority: return 0;
    case SYS_sched_getscheduler: return SCHED_OTHER;
    case SYS_sched_getparam: {
        int zero = 0;
        return pve_mem_write(e, a[1], &zero, 4) ? -EFAULT : 0;
    }
    case SYS_getpriority: return 20;
    case SYS_getcpu: {
        uint32_t zero = 0;
        if ((a[0] && pve_mem_write(e, a[0], &zero, 4)) || (a[1] && pve_mem_write(e, a[1], &zero, 4)))
            return -EFAULT;
        return 0;
    }
    /* time */
    case SYS_clock_gettime:
        if (a[0] > CLOCK_TAI)
            return -EINVAL;
        return put_timespec(e, a[1], pve_now_ns(e, realtime_clock(a[0])));
    case SYS_clock_getres: return a[1] ? put_timespec(e, a[1], 1) : 0;
    case SYS_gettimeofday: {
        if (!a[0])
            return 0;
        int64_t ns = pve_now_ns(e, 1);
        struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
        return pve_mem_write(e, a[0], &tv, sizeof tv) ? -EFAULT : 0;
    }
    case SYS_time: {
        int64_t s = pve_now_ns(e, 1) / 1000000000;
        if (a[0] && pve_mem_write(e, a[0], &s, 8))
            return -EFAULT;
        return s;
    }
    case SYS_times: {
        int64_t ticks = pve_now_ns(e, 0) / 10000000;
        if (a[0]) {
            struct tms t = {(clock_t)ticks, 0, 0, 0};
            if (pve_mem_write(e, a[0], &t, sizeof t))
                return -EFAULT;
        }
        return ticks;
    }
    case SYS_getrusage: {
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        int64_t ns = (int64_t)e->icount; /* one nanosecond per instruction, like the deterministic clock */
        ru.ru_utime.tv_sec = ns / 1000000000;
        ru.ru_utime.tv_usec = ns % 1000000000 / 1000;
        ru.ru_maxrss = (long)(e->mem.peak / 1024);
        return pve_mem_write(e, a[1], &ru, sizeof ru) ? -EFAULT : 0;
    }
    case SYS_nanosleep: return sys_nanosleep(e, a[0], a[1], 0, CLOCK_MONOTONIC);
    case SYS_clock_nanosleep: return sys_nanosleep(e, a[2], a[3], (a[1] & TIMER_ABSTIME) != 0, (int)a[0]);
    /* system */
    case SYS_uname: {
        struct utsname u;
        memset(&u, 0, sizeof u);
        strcpy(u.sysname, "Linux");
        strcpy(u.nodename, "prevision");
        strcpy(u.release, "6.1.0");
        strcpy(u.version, "#1 SMP prevision emulator");
        strcpy(u.machine, "x86_64");
        strcpy(u.domainname, "(none)");
        return pve_mem_write(e, a[0], &u, sizeof u) ? -EFAULT : 0;
    }
    case SYS_sysinfo: {
        struct sysinfo si;
        memset(&si, 0, sizeof si);
        si.uptime = pve_now_ns(e, 0) / 1000000000;
        si.totalram = e->opts.max_mem ? e->opts.max_mem : 16ull << 30;
        si.freeram = si.totalram - e->mem.mapped;
        si.procs = 1;
        si.mem_unit = 1;
        return pve_mem_write(e, a[0], &si, sizeof si) ? -EFAULT : 0;
    }
    case SYS_getrandom: {
        if (a[1] > (1u << 25))
            return -EINVAL;
        struct iovec iov[64];
        int k = pve_mem_iov(e, a[0], a[1], PROT_WRITE, iov, 64);
        if (k < 0)
            return k;
        int64_t n = 0;
        for (int i = 0; i < k; i++) {
            pve_random_bytes(e, iov[i].iov_base, iov[i].iov_len);
            n += (int64_t)iov[i].iov_len;
        }
        return n;
    }
    case SYS_getrlimit: return sys_rlimit(e, a[0], 0, a[1]);
    case SYS_setrlimit: return 0;
    case SYS_prlimit64:
        if (a[0] && a[0] != e->pid) {
            pve_refuse(e, nr);
            return -EPERM;
        }
        return sys_rlimit(e, a[1], a[2], a[3]);
    /* forbidden by the sandbox */
    case SYS_socket:
    case SYS_socketpair:
    case SYS_connect:
    case SYS_accept:
    case SYS_accept4:
    case SYS_bind:
    case SYS_listen:
    case SYS_sendto:
    case SYS_recvfrom:
    case SYS_sendmsg:
    case SYS_recvmsg:
    case SYS_sendmmsg:
    case SYS_recvmmsg:
    case SYS_shutdown:
    case SYS_getsockname:
    case SYS_getpeername:
    case SYS_setsockopt:
    case SYS_getsockopt:
    case SYS_execve:
    case SYS_execveat:
    case SYS_fork:
    case SYS_vfork:
    case SYS_ptrace:
    case SYS_process_vm_readv:
    case SYS_process_vm_writev:
    case SYS_mount:
    case SYS_umount2:
    case SYS_chroot:
    case SYS_pivot_root:
    case SYS_reboot:
    case SYS_setuid:
    case SYS_setgid:
    case SYS_setreuid:
    case SYS_setregid:
    case SYS_setresuid:
    case SYS_setresgid:
    case SYS_link:
    case SYS_linkat:
    case SYS_symlink:
    case SYS_symlinkat:
    case SYS_mknod:
    case SYS_mknodat:
    case SYS_unshare:
    case SYS_setns:
    case SYS_init_module:
    case SYS_finit_module:
    case SYS_delete_module:
    case SYS_kexec_load:
    case SYS_bpf:
    case SYS_perf_event_open:
    case SYS_pidfd_open:
    case SYS_pidfd_send_signal:
    case SYS_pidfd_getfd:
        pve_refuse(e, nr);
        return -EPERM;
    default:
        pve_refuse(e, nr);
        return -ENOSYS;
    }
}

static const int sysregs[7] = {UC_X86_REG_RAX, UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX,
                               UC_X86_REG_R10, UC_X86_REG_R8,  UC_X86_REG_R9};

void pve_hook_syscall(uc_engine *uc, void *ud)
{
    pv_emu *e = ud;
    uint64_t v[7];
    void *ptrs[7];
    for (int i = 0; i < 7; i++)
        ptrs[i] = &v[i];
    uc_reg_read_batch(uc, (int *)sysregs, ptrs, 7);
    e->syscalls++;
    int64_t r = dispatch(e, v[0], v + 1);
    uc_reg_write(uc, UC_X86_REG_RAX, &r);
    if (PVE_UNLIKELY(e->trace)) {
        const char *name = pve_syscall_name(v[0]);
        pv_log(PV_LOG_INFO, "[%u] %s(0x%llx, 0x%llx, 0x%llx, 0x%llx) = %lld", e->threads[e->cur]->tid,
               name ? name : "?", (unsigned long long)v[1], (unsigned long long)v[2], (unsigned long long)v[3],
               (unsigned long long)v[4], (long long)r);
    }
}
