/* The file sandbox: which host paths a guest path reaches, and whether the
 * guest may read or write them.
 *
 * The guest sees the host file system read-only, restricted to the program,
 * its loader, its libraries (ELF files under the standard library
 * directories, and /etc/ld.so.cache) and the paths the user allowed. Its
 * working directory is the host's, overlaid by the scratch directory: a file
 * the guest creates or writes under the working directory lands in the
 * scratch directory at the same relative path, and later opens find it
 * there first. The scratch directory is also reachable by its own absolute
 * path (HOME and TMPDIR point at it). Every check runs on canonical host
 * paths (realpath: '..' and symbolic links resolved), so no guest path
 * escapes through a link or '..'.
 *
 * Refusals by policy return PVE_REFUSED (the caller answers -EACCES and
 * counts the call as refused); missing files return -ENOENT only where the
 * guest could read them if they existed, -EACCES elsewhere, so the sandbox
 * does not reveal what exists outside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *const lib_dirs[] = {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", NULL};

static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

int pve_path_normalize(const char *base, const char *path, char *out, size_t size)
{
    char tmp[2 * PATH_MAX + 2];
    if (path[0] == '/')
        snprintf(tmp, sizeof tmp, "%s", path);
    else
        snprintf(tmp, sizeof tmp, "%s/%s", base, path);
    size_t n = 0;
    out[0] = 0;
    char *save = NULL;
    for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--; /* drop the '/' too */
            out[n] = 0;
            continue;
        }
        size_t l = strlen(c);
        if (n + 1 + l + 1 > size)
            return -ENAMETOOLONG;
        out[n++] = '/';
        memcpy(out + n, c, l);
        n += l;
        out[n] = 0;
    }
    if (n == 0) {
        if (size < 2)
            return -ENAMETOOLONG;
        strcpy(out, "/");
    }
    return 0;
}

static int is_elf_file(const char *host)
{
    int fd = open(host, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    unsigned char m[4];
    int ok = read(fd, m, 4) == 4 && !memcmp(m, "\177ELF", 4);
    close(fd);
    return ok;
}

/* Readable by policy, ignoring the scratch directory. @p host is canonical. */
int pve_sandbox_readable(pv_emu *e, const char *host)
{
    if ((e->exe_path && !strcmp(host, e->exe_path)) || (e->interp_path && !strcmp(host, e->interp_path)))
        return 1;
    if (under(host, e->scratch))
        return 1;
    for (size_t i = 0; i < e->nallow; i++)
        if (under(host, e->allow[i]))
            return 1;
    if (!strcmp(host, "/etc/ld.so.cache"))
        return 1;
    for (int i = 0; lib_dirs[i]; i++) {
        if (!under(host, lib_dirs[i]))
            continue;
        struct stat st;
        if (stat(host, &st))
            return 0;
        /* directories (the loader probes them) and ELF files: code, not data */
        return S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && is_elf_file(host));
    }
    return 0;
}

/* Could a path at this (possibly missing) location be readable? Decides ENOENT vs EACCES. */
static int plausible(pv_emu *e, const char *guest)
{
    if (under(guest, e->scratch))
        return 1;
    for (size_t i = 0; i < e->nallow; i++)
        if (under(guest, e->allow[i]))
            return 1;
    for (int i = 0; lib_dirs[i]; i++)
        if (under(guest, lib_dirs[i]))
            return 1;
    return 0;
}

/* mkdir -p the parents of @p path inside the scratch directory, for a file
 * created under the working directory whose host directory exists. */
static void mirror_parents(pv_emu *e, const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    size_t root = strlen(e->scratch);
    for (char *s = p + root + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        char hostdir[PATH_MAX];
        snprintf(hostdir, sizeof hostdir, "%s%s", e->host_cwd, p + root);
        struct stat st;
        if (stat(hostdir, &st) == 0 && S_ISDIR(st.st_mode))
            mkdir(p, 0755);
        *s = '/';
    }
}

/* Check that scratch path @p p (existing or about to be created) resolves inside the scratch directory. */
static int inside_scratch(pv_emu *e, const char *p)
{
    char c[PATH_MAX];
    if (realpath(p, c))
        return under(c, e->scratch);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", p);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return 0;
    *slash = 0;
    if (!realpath(parent[0] ? parent : "/", c))
        return 1; /* the parent does not exist: the operation fails with ENOENT by itself */
    return under(c, e->scratch);
}

int pve_sandbox_resolve(pv_emu *e, int dirfd, const char *path, int access, pve_path *out)
{
    memset(out, 0, sizeof *out);
    if (!path[0])
        return -ENOENT;
    const char *base = e->cwd;
    if (path[0] != '/' && dirfd != AT_FDCWD) {
        pve_file *f = pve_fs_get(e, dirfd);
        if (!f)
            return -EBADF;
        if (f->kind != PVE_FD_DIR || !f->gpath)
            return -ENOTDIR;
        base = f->gpath;
    }
    int rc = pve_path_normalize(base, path, out->guest, sizeof out->guest);
    if (rc)
        return rc;
    const char *g = out->guest;
    if (!strcmp(g, "/dev/null") || !strcmp(g, "/dev/zero")) {
        out->special = PVE_FD_NULL;
        snprintf(out->host, sizeof out->host, "%s", g);
        return 0;
    }
    if (!strcmp(g, "/dev/urandom") || !strcmp(g, "/dev/random")) {
        out->special = PVE_FD_RANDOM;
        snprintf(out->host, sizeof out->host, "%s", g);
        return (access & (PVE_ACC_WRITE | PVE_ACC_CREATE)) ? PVE_REFUSED : 0;
    }
    if (!strcmp(g, "/etc/ld.so.preload"))
        return -ENOENT; /* the sandbox has no preloads; not worth a refusal */
    int wants_write = (access & (PVE_ACC_WRITE | PVE_ACC_CREATE)) != 0;
    /* the scratch directory, directly or as the overlay of the working directory */
    char cand[PATH_MAX + 1];
    int overlay = 0;
    if (under(g, e->scratch)) {
        snprintf(cand, sizeof cand, "%s", g);
        overlay = 1;
    } else if (under(g, e->host_cwd) && strcmp(e->host_cwd, "/")) {
        if (snprintf(cand, sizeof cand, "%s%s", e->scratch, g + strlen(e->host_cwd)) >= (int)sizeof cand)
            return -ENAMETOOLONG;
        overlay = 1;
    } else if (!strcmp(e->host_cwd, "/")) {
        if (snprintf(cand, sizeof cand, "%s%s", e->scratch, g) >= (int)sizeof cand)
            return -ENAMETOOLONG;
        overlay = 1;
    }
    if (overlay) {
        struct stat st;
        int exists = lstat(cand, &st) == 0;
        if (exists || wants_write || under(g, e->scratch)) {
            if (wants_write && !exists && !under(g, e->scratch))
                mirror_parents(e, cand);
            if (!inside_scratch(e, cand))
                return PVE_REFUSED;
            snprintf(out->host, sizeof out->host, "%s", cand);
            out->in_scratch = 1;
            return 0;
        }
    }
    if (wants_write)
        return PVE_REFUSED; /* read-only outside the scratch directory */
    char canon[PATH_MAX];
    if (!realpath(g, canon)) {
        int err = errno;
        if (plausible(e, g) && (err == ENOENT || err == ENOTDIR))
            return -err;
        return PVE_REFUSED;
    }
    if (!pve_sandbox_readable(e, canon))
        return PVE_REFUSED;
    snprintf(out->host, sizeof out->host, "%s", canon);
    return 0;
}

int pve_sandbox_init(pv_emu *e)
{
    const pv_emu_options *o = &e->opts;
    if (o->scratch_dir) {
        if (!realpath(o->scratch_dir, e->scratch))
            return pv_error_set(PV_ERR_NOTFOUND, "scratch directory %s: %s", o->scratch_dir, strerror(errno));
        struct stat st;
        if (stat(e->scratch, &st) || !S_ISDIR(st.st_mode))
            return pv_error_set(PV_ERR_INVALID, "scratch directory %s: not a directory", o->scratch_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/prevision-run-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(tmpl))
            return pv_error_set(PV_ERR_IO, "cannot create a scratch directory %s: %s", tmpl, strerror(errno));
        if (!realpath(tmpl, e->scratch)) {
            rmdir(tmpl);
            return pv_error_set(PV_ERR_IO, "cannot resolve the scratch directory %s: %s", tmpl, strerror(errno));
        }
        e->made_scratch = 1;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || !realpath(cwd, e->host_cwd))
        snprintf(e->host_cwd, sizeof e->host_cwd, "/");
    snprintf(e->cwd, sizeof e->cwd, "%s", e->host_cwd);
    if (o->nallow_read && !(e->allow = calloc(o->nallow_read, sizeof *e->allow)))
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->nallow_read; i++) {
        char c[PATH_MAX];
        if (!realpath(o->allow_read[i], c))
            return pv_error_set(errno == ENOENT || errno == ENOTDIR ? PV_ERR_NOTFOUND : PV_ERR_IO,
                                "--allow-read %s: %s", o->allow_read[i], strerror(errno));
        if (!strcmp(c, "/"))
            return pv_error_set(PV_ERR_INVALID, "--allow-read %s: allowing the whole file system defeats the "
                                "sandbox; name the files or directories the program reads", o->allow_read[i]);
        if (!(e->allow[e->nallow++] = strdup(c)))
            return pv_error_set(PV_ERR_NOMEM, "out of memory");
    }
    return PV_OK;
}
