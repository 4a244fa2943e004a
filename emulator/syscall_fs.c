/* File system calls: the guest's descriptor table and the calls on paths
 * and descriptors, checked by the sandbox (sandbox.c).
 *
 * Guest descriptors are the emulator's own numbers; each points to an open
 * file that holds a host descriptor (or a virtual file: /dev/null,
 * /dev/urandom, a write sink with --discard-writes). Data moves between the
 * host descriptor and guest memory in place (readv/writev on the host pages
 * backing the guest buffer). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#define MAX_IOV 64

static pve_file *file_new(int kind, int host, int own)
{
    pve_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->refs = 1;
    f->kind = kind;
    f->host = host;
    f->own = own;
    return f;
}

static void file_unref(pve_file *f)
{
    if (!f || --f->refs > 0)
        return;
    if (f->own && f->host >= 0)
        close(f->host);
    free(f->gpath);
    free(f->hpath);
    free(f);
}

pve_file *pve_fs_get(pv_emu *e, int fd)
{
    if (fd < 0 || fd >= PVE_MAX_FDS)
        return NULL;
    return e->fds[fd].f;
}

static int fd_alloc(pv_emu *e, int from, pve_file *f, int cloexec)
{
    for (int i = from < 0 ? 0 : from; i < PVE_MAX_FDS; i++)
        if (!e->fds[i].f) {
            e->fds[i].f = f;
            e->fds[i].cloexec = cloexec;
            return i;
        }
    return -EMFILE;
}

static int std_file(pv_emu *e, int fd, int host, int writable)
{
    pve_file *f = host >= 0 ? file_new(PVE_FD_HOST, host, 0) : file_new(PVE_FD_NULL, -1, 0);
    if (!f)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    f->readable = !writable;
    f->writable = writable;
    f->stdio = 1;
    e->fds[fd].f = f;
    return PV_OK;
}

int pve_fs_init(pv_emu *e)
{
    int rc;
    if ((rc = std_file(e, 0, e->opts.stdin_fd, 0)) || (rc = std_file(e, 1, e->opts.stdout_fd, 1)) ||
        (rc = std_file(e, 2, e->opts.stderr_fd, 1)))
        return rc;
    return PV_OK;
}

void pve_fs_fini(pv_emu *e)
{
    for (int i = 0; i < PVE_MAX_FDS; i++) {
        file_unref(e->fds[i].f);
        e->fds[i].f = NULL;
    }
}

/* ---- data transfer ---- */

static int64_t do_read(pv_emu *e, pve_file *f, uint64_t buf, uint64_t n, int64_t off)
{
    if (!f->readable)
        return -EBADF;
    if (f->kind == PVE_FD_DIR)
        return -EISDIR;
    if (!n)
        return 0;
    if (f->kind == PVE_FD_NULL || f->kind == PVE_FD_SINK)
        return 0;
    struct iovec iov[MAX_IOV];
    int k = pve_mem_iov(e, buf, n, PROT_WRITE, iov, MAX_IOV);
    if (k < 0)
        return k;
    ssize_t r;
    if (f->kind == PVE_FD_RANDOM) {
        r = 0;
        for (int i = 0; i < k; i++) {
            pve_random_bytes(e, iov[i].iov_base, iov[i].iov_len);
            r += (ssize_t)iov[i].iov_len;
        }
    } else {
        r = off < 0 ? readv(f->host, iov, k) : preadv(f->host, iov, k, off);
        if (r < 0)
            return -errno;
    }
    e->io_read += (uint64_t)r;
    pve_mem_host_wrote(e, buf, (uint64_t)r);
    return r;
}

static int64_t do_write(pv_emu *e, pve_file *f, uint64_t buf, uint64_t n, int64_t off)
{
    if (!f->writable)
        return -EBADF;
    if (!n)
        return 0;
    if (f->kind == PVE_FD_NULL) {
        e->io_written += n;
        return (int64_t)n;
    }
    if (f->kind == PVE_FD_SINK) {
        uint64_t at = off >= 0 ? (uint64_t)off : (f->append ? f->size : f->pos);
        if (off < 0)
            f->pos = at + n;
        if (at + n > f->size)
            f->size = at + n;
        e->io_written += n;
        return (int64_t)n;
    }
    struct iovec iov[MAX_IOV];
    int k = pve_mem_iov(e, buf, n, PROT_READ, iov, MAX_IOV);
    if (k < 0)
        return k;
    ssize_t r = off < 0 ? writev(f->host, iov, k) : pwritev(f->host, iov, k, off);
    if (r < 0)
        return -errno;
    e->io_written += (uint64_t)r;
    return r;
}

static int64_t do_rwv(pv_emu *e, pve_file *f, uint64_t iovp, uint64_t cnt, int64_t off, int write)
{
    if (cnt > 1024)
        return -EINVAL;
    int64_t total = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t v[2];
        if (pve_mem_read(e, iovp + i * 16, v, sizeof v))
            return total ? total : -EFAULT;
        if (!v[1])
            continue;
        int64_t r = write ? do_write(e, f, v[0], v[1], off < 0 ? -1 : off + total)
                          : do_read(e, f, v[0], v[1], off < 0 ? -1 : off + total);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((uint64_t)r < v[1])
            break;
    }
    return total;
}

/* ---- stat ---- */

/* A stand-in stat for virtual files and, in deterministic mode, for the
 * standard descriptors (whose host type, tty or pipe or file, would change
 * the guest's buffering and so its instruction counts). */
static void fake_stat(struct stat *st, int kind, uint64_t size)
{
    memset(st, 0, sizeof *st);
    st->st_dev = 5;
    st->st_ino = (ino_t)(100 + kind);
    st->st_nlink = 1;
    st->st_blksize = 4096;
    if (kind == PVE_FD_SINK) {
        st->st_mode = S_IFREG | 0644;
        st->st_size = (off_t)size;
        st->st_blocks = (blkcnt_t)((size + 511) / 512);
    } else if (kind == PVE_FD_HOST) {
        st->st_mode = S_IFIFO | 0600; /* a standard descriptor: a pipe */
    } else {
        st->st_mode = S_IFCHR | 0666;
        st->st_rdev = kind == PVE_FD_NULL ? makedev(1, 3) : makedev(1, 9);
    }
}

static int64_t put_stat(pv_emu *e, uint64_t addr, const struct stat *st)
{
    /* host and guest are both x86-64: the kernel's struct stat layout is glibc's */
    return pve_mem_write(e, addr, st, sizeof *st) ? -EFAULT : 0;
}

static int64_t fstat_file(pv_emu *e, pve_file *f, uint64_t addr)
{
    struct stat st;
    if (f->kind == PVE_FD_HOST && !(f->stdio && e->opts.deterministic)) {
        if (fstat(f->host, &st))
            return -errno;
    } else if (f->kind == PVE_FD_DIR) {
        if (fstat(f->host, &st))
            return -errno;
    } else {
        fake_stat(&st, f->kind, f->size);
    }
    return put_stat(e, addr, &st);
}

/* ---- paths ---- */

static int64_t refused(pv_emu *e, uint64_t nr, int rc)
{
    if (rc == PVE_REFUSED) {
        pve_refuse(e, nr);
        return -EACCES;
    }
    return rc;
}

static int get_path(pv_emu *e, uint64_t addr, char *buf)
{
    if (!addr)
        return -EFAULT;
    return pve_mem_strcpy(e, addr, buf, PATH_MAX);
}

static int64_t sys_open(pv_emu *e, uint64_t nr, int dirfd, uint64_t upath, int flags, int mode)
{
    char path[PATH_MAX];
    int rc = get_path(e, upath, path);
    if (rc)
        return rc;
    if (flags & 020000000 /* O_TMPFILE without O_DIRECTORY */) {
        pve_refuse(e, nr);
        return -EOPNOTSUPP;
    }
    int acc = flags & O_ACCMODE;
    int access = PVE_ACC_READ;
    if (acc == O_WRONLY)
        access = PVE_ACC_WRITE;
    else if (acc == O_RDWR)
        access = PVE_ACC_READ | PVE_ACC_WRITE;
    if (flags & (O_CREAT | O_TRUNC))
        access |= PVE_ACC_CREATE;
    pve_path p;
    if ((rc = pve_sandbox_resolve(e, dirfd, path, access, &p)))
        return refused(e, nr, rc);
    pve_file *f = NULL;
    int cloexec = (flags & O_CLOEXEC) != 0;
    if (p.special) {
        f = file_new(p.special, -1, 0);
    } else if (p.in_scratch && (access & (PVE_ACC_WRITE | PVE_ACC_CREATE)) && e->opts.discard_writes) {
        struct stat st;
        int exists = stat(p.host, &st) == 0;
        if ((flags & O_CREAT) && (flags & O_EXCL) && exists)
            return -EEXIST;
        if (!exists && !(flags & O_CREAT))
            return -ENOENT;
        f = file_new(PVE_FD_SINK, -1, 0);
    } else {
        int hflags = (p.in_scratch ? flags : (flags & ~(O_CREAT | O_TRUNC | O_APPEND))) | O_CLOEXEC;
        hflags &= ~(O_ASYNC | O_DIRECT);
        if (!p.in_scratch)
            hflags = (hflags & ~O_ACCMODE) | O_RDONLY;
        int h = open(p.host, hflags | O_NOCTTY, mode & 0777);
        if (h < 0)
            return -errno;
        struct stat st;
        int isdir = fstat(h, &st) == 0 && S_ISDIR(st.st_mode);
        if (isdir && acc != O_RDONLY) {
            close(h);
            return -EISDIR;
        }
        f = file_new(isdir ? PVE_FD_DIR : PVE_FD_HOST, h, 1);
        if (!f)
            close(h);
        else if (!isdir)
            e->files_opened++;
    }
    if (!f)
        return -ENOMEM;
    f->readable = acc != O_WRONLY;
    f->writable = acc != O_RDONLY;
    f->append = (flags & O_APPEND) != 0;
    f->gpath = strdup(p.guest);
    f->hpath = strdup(p.host);
    int fd = fd_alloc(e, 0, f, cloexec);
    if (fd < 0)
        file_unref(f);
    return fd;
}

static int64_t sys_fstatat(pv_emu *e, uint64_t nr, int dirfd, uint64_t upath, uint64_t buf, int flags)
{
    char path[PATH_MAX];
    int rc = get_path(e, upath, path);
    if (rc)
        return rc;
    if (!path[0] && (flags & AT_EMPTY_PATH)) {
        pve_file *f = dirfd == AT_FDCWD ? NULL : pve_fs_get(e, dirfd);
        if (!f)
            return dirfd == AT_FDCWD ? sys_fstatat(e, nr, AT_FDCWD, 0, buf, 0) : -EBADF;
        return fstat_file(e, f, buf);
    }
    pve_path p;
    if ((rc = pve_sandbox_resolve(e, dirfd, path, PVE_ACC_STAT, &p)))
        return refused(e, nr, rc);
    struct stat st;
    if (p.special)
        fake_stat(&st, p.special, 0);
    else if (((flags & AT_SYMLINK_NOFOLLOW) ? lstat(p.host, &st) : stat(p.host, &st)))
        return -errno;
    return put_stat(e, buf, &st);
}

static int64_t sys_statx(pv_emu *e, uint64_t nr, const uint64_t *a)
{
    char path[PATH_MAX];
    int dirfd = (int)a[0], flags = (int)a[2];
    int rc = get_path(e, a[1], path);
    if (rc)
        return rc;
    struct statx stx;
    if (!path[0] && (flags & AT_EMPTY_PATH)) {
        pve_file *f = pve_fs_get(e, dirfd);
        if (!f)
            return -EBADF;
        if ((f->kind != PVE_FD_HOST && f->kind != PVE_FD_DIR) || (f->stdio && e->opts.deterministic))
            return -ENOSYS; /* glibc falls back to fstat */
        if (statx(f->host, "", AT_EMPTY_PATH | (flags & ~AT_EMPTY_PATH & AT_STATX_SYNC_TYPE), (unsigned)a[3], &stx))
            return -errno;
    } else {
        pve_path p;
        if ((rc = pve_sandbox_resolve(e, dirfd, path, PVE_ACC_STAT, &p)))
            return refused(e, nr, rc);
        if (p.special)
            return -ENOSYS;
        if (statx(AT_FDCWD, p.host, flags & (AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_TYPE), (unsigned)a[3], &stx))
            return -errno;
    }
    return pve_mem_write(e, a[4], &stx, sizeof stx) ? -EFAULT : 0;
}

static int64_t sys_access(pv_emu *e, uint64_t nr, int dirfd, uint64_t upath, int mode)
{
    char path[PATH_MAX];
    int rc = get_path(e, upath, path);
    if (rc)
        return rc;
    pve_path p;
    if ((rc = pve_sandbox_resolve(e, dirfd, path, (mode & W_OK) ? PVE_ACC_WRITE : PVE_ACC_STAT, &p)))
        return refused(e, nr, rc);
    if (p.special)
        return 0;
    if (access(p.host, mode & (R_OK | W_OK | X_OK)) && (!p.in_scratch || access(p.host, F_OK)))
        return -errno;
    return 0;
}

static int64_t sys_readlink(pv_emu *e, uint64_t nr, int dirfd, uint64_t upath, uint64_t buf, uint64_t size)
{
    char path[PATH_MAX], g[PATH_MAX];
    int rc = get_path(e, upath, path);
    if (rc)
        return rc;
    if ((int64_t)size <= 0)
        return -EINVAL;
    if ((rc = pve_path_normalize(e->cwd, path, g, sizeof g)))
        return rc;
    const char *target;
    char link[PATH_MAX];
    if (!strcmp(g, "/proc/self/exe")) {
        target = e->exe_path;
    } else {
        /* the link itself must be in a readable place: resolve its directory, read the last component */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", g);
        char *slash = strrchr(dir, '/');
        const char *name = slash + 1;
        *slash = 0;
        pve_path p;
        if ((rc = pve_sandbox_resolve(e, dirfd, dir[0] ? dir : "/", PVE_ACC_STAT, &p)))
            return refused(e, nr, rc);
        char host[2 * PATH_MAX + 2];
        snprintf(host, sizeof host, "%s/%s", p.host, name);
        ssize_t n = readlink(host, link, sizeof link - 1);
        if (n < 0)
            return -errno;
        link[n] = 0;
        target = link;
    }
    size_t n = strlen(target);
    if (n > size)
        n = size;
    return pve_mem_write(e, buf, target, n) ? -EFAULT : (int64_t)n;
}

/* unlink, mkdir, rename, chmod...: only inside the scratch directory. */
static int64_t scratch_path(pv_emu *e, uint64_t nr, int dirfd, uint64_t upath, pve_path *p, int create)
{
    char path[PATH_MAX];
    int rc = get_path(e, upath, path);
    if (rc)
        return rc;
    if ((rc = pve_sandbox_resolve(e, dirfd, path, PVE_ACC_WRITE | (create ? PVE_ACC_CREATE : 0), p)))
        return refused(e, nr, rc);
    if (!p->in_scratch) {
        pve_refuse(e, nr);
        return -EACCES;
    }
    return 0;
}

static int64_t sys_ioctl(pv_emu *e, uint64_t nr, pve_file *f, uint64_t req, uint64_t arg)
{
    /* terminal queries only, answered for real terminals outside deterministic mode */
    int tty = f->kind == PVE_FD_HOST && !e->opts.deterministic && isatty(f->host);
    if (req == TCGETS) {
        if (!tty)
            return -ENOTTY;
        struct termios t; /* the kernel's termios is the first 36 bytes of glibc's */
        if (ioctl(f->host, TCGETS, &t))
            return -errno;
        return pve_mem_write(e, arg, &t, 36) ? -EFAULT : 0;
    }
    if (req == TIOCGWINSZ) {
        if (!tty)
            return -ENOTTY;
        struct winsize w;
        if (ioctl(f->host, TIOCGWINSZ, &w))
            return -errno;
        return pve_mem_write(e, arg, &w, sizeof w) ? -EFAULT : 0;
    }
    if (req == TIOCGPGRP || req == TCSETS || req == TCSETSW || req == TCSETSF || req == FIONREAD)
        return -ENOTTY;
    pve_refuse(e, nr);
    return -ENOTTY;
}

static int64_t sys_getdents64(pv_emu *e, pve_file *f, uint64_t buf, uint64_t n)
{
    if (f->kind != PVE_FD_DIR)
        return -ENOTDIR;
    if (n > 1 << 20)
        n = 1 << 20;
    void *p = pve_mem_ptr(e, buf, n, PROT_WRITE);
    if (!p)
        return -EFAULT;
    long r = syscall(SYS_getdents64, f->host, p, n);
    return r < 0 ? -errno : r;
}

static int64_t sys_fcntl(pv_emu *e, int fd, pve_file *f, int cmd, uint64_t arg)
{
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        f->refs++;
        int n = fd_alloc(e, (int)arg, f, cmd == F_DUPFD_CLOEXEC);
        if (n < 0)
            f->refs--;
        return n;
    }
    case F_GETFD: return e->fds[fd].cloexec ? FD_CLOEXEC : 0;
    case F_SETFD: e->fds[fd].cloexec = (arg & FD_CLOEXEC) != 0; return 0;
    case F_GETFL:
        return (f->readable && f->writable ? O_RDWR : f->writable ? O_WRONLY : O_RDONLY) |
               (f->append ? O_APPEND : 0);
    case F_SETFL: f->append = (arg & O_APPEND) != 0; return 0;
    case F_GETLK: {
        struct flock l;
        if (pve_mem_read(e, arg, &l, sizeof l))
            return -EFAULT;
        l.l_type = F_UNLCK;
        return pve_mem_write(e, arg, &l, sizeof l) ? -EFAULT : 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW: return 0; /* one process: locks always succeed */
    case F_GETPIPE_SZ: return -EBADF;
    default: return -EINVAL;
    }
}

int pve_fs_syscall(pv_emu *e, uint64_t nr, const uint64_t *a, int64_t *ret)
{
    int fd = (int)a[0];
    pve_file *f = pve_fs_get(e, fd);
    pve_path p;
    int64_t r;
    switch (nr) {
    case SYS_read: r = f ? do_read(e, f, a[1], a[2], -1) : -EBADF; break;
    case SYS_write: r = f ? do_write(e, f, a[1], a[2], -1) : -EBADF; break;
    case SYS_pread64: r = f ? ((int64_t)a[3] < 0 ? -EINVAL : do_read(e, f, a[1], a[2], (int64_t)a[3])) : -EBADF; break;
    case SYS_pwrite64:
        r = f ? ((int64_t)a[3] < 0 ? -EINVAL : do_write(e, f, a[1], a[2], (int64_t)a[3])) : -EBADF;
        break;
    case SYS_readv: r = f ? do_rwv(e, f, a[1], a[2], -1, 0) : -EBADF; break;
    case SYS_writev: r = f ? do_rwv(e, f, a[1], a[2], -1, 1) : -EBADF; break;
    case SYS_preadv: r = f ? do_rwv(e, f, a[1], a[2], (int64_t)a[3], 0) : -EBADF; break;
    case SYS_pwritev: r = f ? do_rwv(e, f, a[1], a[2], (int64_t)a[3], 1) : -EBADF; break;
    case SYS_open: r = sys_open(e, nr, AT_FDCWD, a[0], (int)a[1], (int)a[2]); break;
    case SYS_creat: r = sys_open(e, nr, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (int)a[1]); break;
    case SYS_openat: r = sys_open(e, nr, (int)a[0], a[1], (int)a[2], (int)a[3]); break;
    case SYS_close:
        if (!f) {
            r = -EBADF;
        } else {
            e->fds[fd].f = NULL;
            file_unref(f);
            r = 0;
        }
        break;
    case SYS_close_range:
        for (uint64_t i = a[0]; i <= a[1] && i < PVE_MAX_FDS; i++) {
            if (a[2] & 4 /* CLOSE_RANGE_CLOEXEC */)
                e->fds[i].cloexec = 1;
            else if (e->fds[i].f) {
                file_unref(e->fds[i].f);
                e->fds[i].f = NULL;
            }
        }
        r = 0;
        break;
    case SYS_lseek:
        if (!f)
            r = -EBADF;
        else if (f->kind == PVE_FD_HOST || f->kind == PVE_FD_DIR) {
            off_t o = lseek(f->host, (off_t)a[1], (int)a[2]);
            r = o < 0 ? -errno : o;
        } else if (f->kind == PVE_FD_SINK) {
            int64_t base = a[2] == SEEK_SET ? 0 : a[2] == SEEK_CUR ? (int64_t)f->pos : (int64_t)f->size;
            int64_t to = base + (int64_t)a[1];
            r = a[2] > SEEK_END || to < 0 ? -EINVAL : (int64_t)(f->pos = (uint64_t)to);
        } else {
            r = 0;
        }
        break;
    case SYS_fstat: r = f ? fstat_file(e, f, a[1]) : -EBADF; break;
    case SYS_stat: r = sys_fstatat(e, nr, AT_FDCWD, a[0], a[1], 0); break;
    case SYS_lstat: r = sys_fstatat(e, nr, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW); break;
    case SYS_newfstatat: r = sys_fstatat(e, nr, (int)a[0], a[1], a[2], (int)a[3]); break;
    case SYS_statx: r = sys_statx(e, nr, a); break;
    case SYS_access: r = sys_access(e, nr, AT_FDCWD, a[0], (int)a[1]); break;
    case SYS_faccessat:
    case SYS_faccessat2: r = sys_access(e, nr, (int)a[0], a[1], (int)a[2]); break;
    case SYS_readlink: r = sys_readlink(e, nr, AT_FDCWD, a[0], a[1], a[2]); break;
    case SYS_readlinkat: r = sys_readlink(e, nr, (int)a[0], a[1], a[2], a[3]); break;
    case SYS_dup:
        if (!f)
            r = -EBADF;
        else {
            f->refs++;
            r = fd_alloc(e, 0, f, 0);
            if (r < 0)
                f->refs--;
        }
        break;
    case SYS_dup2:
    case SYS_dup3: {
        int to = (int)a[1];
        if (!f || to < 0 || to >= PVE_MAX_FDS)
            r = -EBADF;
        else if (to == fd)
            r = nr == SYS_dup3 ? -EINVAL : to;
        else {
            file_unref(e->fds[to].f);
            f->refs++;
            e->fds[to].f = f;
            e->fds[to].cloexec = nr == SYS_dup3 && (a[2] & O_CLOEXEC);
            r = to;
        }
        break;
    }
    case SYS_fcntl: r = f ? sys_fcntl(e, fd, f, (int)a[1], a[2]) : -EBADF; break;
    case SYS_ioctl: r = f ? sys_ioctl(e, nr, f, a[1], a[2]) : -EBADF; break;
    case SYS_getdents64: r = f ? sys_getdents64(e, f, a[1], a[2]) : -EBADF; break;
    case SYS_getcwd: {
        size_t n = strlen(e->cwd) + 1;
        if (a[1] < n)
            r = -ERANGE;
        else
            r = pve_mem_write(e, a[0], e->cwd, n) ? -EFAULT : (int64_t)n;
        break;
    }
    case SYS_chdir: {
        char path[PATH_MAX];
        struct stat st;
        if ((r = get_path(e, a[0], path)))
            break;
        if ((r = pve_sandbox_resolve(e, AT_FDCWD, path, PVE_ACC_STAT, &p))) {
            r = refused(e, nr, (int)r);
            break;
        }
        if (stat(p.host, &st))
            r = -errno;
        else if (!S_ISDIR(st.st_mode))
            r = -ENOTDIR;
        else
            snprintf(e->cwd, sizeof e->cwd, "%s", p.guest);
        break;
    }
    case SYS_fchdir:
        if (!f)
            r = -EBADF;
        else if (f->kind != PVE_FD_DIR)
            r = -ENOTDIR;
        else {
            snprintf(e->cwd, sizeof e->cwd, "%s", f->gpath);
            r = 0;
        }
        break;
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_fadvise64:
    case SYS_flock:
    case SYS_fallocate: r = f ? 0 : -EBADF; break;
    case SYS_ftruncate:
        if (!f || !f->writable)
            r = -EBADF;
        else if (f->kind == PVE_FD_SINK) {
            f->size = a[1];
            r = 0;
        } else if (f->kind != PVE_FD_HOST)
            r = -EINVAL;
        else
            r = ftruncate(f->host, (off_t)a[1]) ? -errno : 0;
        break;
    case SYS_truncate:
        if (!(r = scratch_path(e, nr, AT_FDCWD, a[0], &p, 0)))
            r = e->opts.discard_writes ? 0 : truncate(p.host, (off_t)a[1]) ? -errno : 0;
        break;
    case SYS_unlink:
        if (!(r = scratch_path(e, nr, AT_FDCWD, a[0], &p, 0)))
            r = unlink(p.host) ? -errno : 0;
        break;
    case SYS_unlinkat:
        if (!(r = scratch_path(e, nr, (int)a[0], a[1], &p, 0)))
            r = ((a[2] & AT_REMOVEDIR) ? rmdir(p.host) : unlink(p.host)) ? -errno : 0;
        break;
    case SYS_rmdir:
        if (!(r = scratch_path(e, nr, AT_FDCWD, a[0], &p, 0)))
            r = rmdir(p.host) ? -errno : 0;
        break;
    case SYS_mkdir:
        if (!(r = scratch_path(e, nr, AT_FDCWD, a[0], &p, 1)))
            r = mkdir(p.host, (mode_t)a[1] & 0777) ? -errno : 0;
        break;
    case SYS_mkdirat:
        if (!(r = scratch_path(e, nr, (int)a[0], a[1], &p, 1)))
            r = mkdir(p.host, (mode_t)a[2] & 0777) ? -errno : 0;
        break;
    case SYS_rename:
    case SYS_renameat:
    case SYS_renameat2: {
        pve_path q;
        int ofd = nr == SYS_rename ? AT_FDCWD : (int)a[0], nfd = nr == SYS_rename ? AT_FDCWD : (int)a[2];
        uint64_t op = nr == SYS_rename ? a[0] : a[1], np = nr == SYS_rename ? a[1] : a[3];
        if (!(r = scratch_path(e, nr, ofd, op, &p, 0)) && !(r = scratch_path(e, nr, nfd, np, &q, 1)))
            r = rename(p.host, q.host) ? -errno : 0;
        break;
    }
    case SYS_chmod:
    case SYS_fchmodat: {
        int dfd = nr == SYS_chmod ? AT_FDCWD : (int)a[0];
        uint64_t up = nr == SYS_chmod ? a[0] : a[1];
        mode_t m = (mode_t)(nr == SYS_chmod ? a[1] : a[2]) & 07777;
        if (!(r = scratch_path(e, nr, dfd, up, &p, 0)))
            r = chmod(p.host, m) ? -errno : 0;
        break;
    }
    case SYS_fchmod:
        r = !f ? -EBADF : (f->kind == PVE_FD_HOST && f->own && f->writable) ? (fchmod(f->host, (mode_t)a[1] & 07777) ? -errno : 0) : 0;
        break;
    case SYS_fchown:
        r = f ? 0 : -EBADF; /* ownership cannot change in the sandbox; pretend, like a non-root cp -p */
        break;
    case SYS_chown:
    case SYS_lchown:
    case SYS_fchownat:
        r = scratch_path(e, nr, nr == SYS_fchownat ? (int)a[0] : AT_FDCWD, nr == SYS_fchownat ? a[1] : a[0], &p, 0);
        break;
    case SYS_utimensat: {
        if (!a[1]) { /* futimens(fd) */
            r = f && f->kind == PVE_FD_HOST && f->own && f->writable ? 0 : f ? 0 : -EBADF;
            if (f && f->kind == PVE_FD_HOST && f->own && f->writable) {
                struct timespec ts[2];
                if (a[2] && pve_mem_read(e, a[2], ts, sizeof ts))
                    r = -EFAULT;
                else
                    r = futimens(f->host, a[2] ? ts : NULL) ? -errno : 0;
            }
            break;
        }
        if (!(r = scratch_path(e, nr, (int)a[0], a[1], &p, 0))) {
            struct timespec ts[2];
            if (a[2] && pve_mem_read(e, a[2], ts, sizeof ts))
                r = -EFAULT;
            else
                r = utimensat(AT_FDCWD, p.host, a[2] ? ts : NULL, (int)a[3] & AT_SYMLINK_NOFOLLOW) ? -errno : 0;
        }
        break;
    }
    case SYS_umask: r = 022; break;
    case SYS_pipe:
    case SYS_pipe2: {
        /* a pipe inside the one process: host pipe, never blocking the emulator (a read with no
         * data answers EAGAIN: a writer could only be another guest thread, which cannot run then) */
        int hp[2];
        if (nr == SYS_pipe2 && (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))) {
            r = -EINVAL;
            break;
        }
        if (pipe2(hp, O_CLOEXEC | O_NONBLOCK)) {
            r = -errno;
            break;
        }
        pve_file *rd = file_new(PVE_FD_HOST, hp[0], 1), *wr = file_new(PVE_FD_HOST, hp[1], 1);
        int cloexec = nr == SYS_pipe2 && (a[1] & O_CLOEXEC);
        int fds[2] = {-1, -1};
        if (rd && wr) {
            rd->readable = 1;
            wr->writable = 1;
            fds[0] = fd_alloc(e, 0, rd, cloexec);
            fds[1] = fds[0] >= 0 ? fd_alloc(e, 0, wr, cloexec) : -1;
        }
        if (fds[1] < 0 || pve_mem_write(e, a[0], fds, sizeof fds)) {
            if (fds[0] >= 0)
                e->fds[fds[0]].f = NULL;
            if (fds[1] >= 0)
                e->fds[fds[1]].f = NULL;
            if (rd) file_unref(rd); else close(hp[0]);
            if (wr) file_unref(wr); else close(hp[1]);
            r = fds[1] < 0 ? -EMFILE : -EFAULT;
            break;
        }
        r = 0;
        break;
    }
    default: return 0;
    }
    *ret = r;
    return 1;
}
