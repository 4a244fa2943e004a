/* The ELF loader: map the executable and its PT_INTERP loader the way
 * Linux's binfmt_elf does with address-space randomization off, and build
 * the initial stack (argc, argv, envp, auxv). The loader (ld.so) then maps
 * the libraries itself through the emulated mmap, as under qemu-user. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Linux's load addresses with randomization off. */
#define PIE_BASE 0x555555554000ull

/* CPUID.1:EDX of Unicorn's qemu64 model (measured with Unicorn 2.1.1): the x86 AT_HWCAP. */
#define QEMU64_HWCAP 0x078bfbfdull

/* Read a whole file and parse it. On success *fd is an open descriptor of it (for mapping). */
static int read_elf(const char *path, const char *shown, pve_elf **elf, int *fd)
{
    int rc = PV_OK;
    uint8_t *data = MAP_FAILED;
    struct stat st;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return pv_error_set(PV_ERR_NOTFOUND, "%s: no such file; give the path of an x86-64 executable", shown);
        return pv_error_set(PV_ERR_IO, "%s: cannot open: %s", shown, strerror(errno));
    }
    if (fstat(*fd, &st)) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot stat: %s", shown, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = pv_error_set(PV_ERR_INVALID, "%s: is a directory, not an executable", shown);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pv_error_set(PV_ERR_INVALID, "%s: not a regular file", shown);
        goto done;
    }
    if (st.st_size == 0) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: empty file, not an ELF executable", shown);
        goto done;
    }
    data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, *fd, 0);
    if (data == MAP_FAILED) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot read: %s", shown, strerror(errno));
        goto done;
    }
    if (!(*elf = calloc(1, sizeof **elf))) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = pve_elf_parse(data, (size_t)st.st_size, shown, *elf);
done:
    if (data != MAP_FAILED)
        munmap(data, (size_t)st.st_size);
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Map the PT_LOAD segments of @p elf at bias @p bias from @p fd. */
static int map_image(pv_emu *e, const pve_elf *elf, int fd, uint64_t bias, uint32_t obj, const char *shown)
{
    struct stat st;
    if (fstat(fd, &st))
        return pv_error_set(PV_ERR_IO, "%s: cannot stat: %s", shown, strerror(errno));
    uint64_t fsize = (uint64_t)st.st_size;
    uint64_t prev_end = 0;
    uint32_t prev_prot = 0;
    for (uint32_t i = 0; i < elf->nloads; i++) {
        const pve_seg *s = &elf->loads[i];
        uint32_t prot = (s->flags & PF_R ? PROT_READ : 0) | (s->flags & PF_W ? PROT_WRITE : 0) |
                        (s->flags & PF_X ? PROT_EXEC : 0);
        uint64_t a = s->vaddr + bias;
        uint64_t pstart = PVE_PAGE_DOWN(a), pend = PVE_PAGE_UP(a + s->memsz);
        if (pstart < prev_end) {
            /* first page shared with the previous segment: copy this segment's part of it */
            uint64_t lim = prev_end < a + s->filesz ? prev_end : a + s->filesz;
            uint8_t *p = pve_mem_ptr(e, a, prev_end - a, 0);
            if (!p)
                return pv_error_set(PV_ERR_INTERNAL, "%s: shared page at 0x%llx not mapped", shown,
                                    (unsigned long long)pstart);
            if (lim > a && pread(fd, p, lim - a, (off_t)s->offset) != (ssize_t)(lim - a))
                return pv_error_set(PV_ERR_IO, "%s: cannot read segment %u", shown, i);
            uint64_t z0 = lim > a ? lim : a;
            uint64_t z1 = prev_end < a + s->memsz ? prev_end : a + s->memsz;
            if (z1 > z0)
                memset(p + (z0 - a), 0, z1 - z0);
            pve_mem_protect(e, pstart, prev_end - pstart, prot | prev_prot);
            pstart = prev_end;
        }
        if (pend > pstart) {
            uint64_t foff = PVE_PAGE_DOWN(s->offset) + (pstart - PVE_PAGE_DOWN(a));
            uint64_t fend = s->offset + s->filesz;
            if (fend > fsize)
                fend = fsize;
            uint64_t flen = fend > foff ? fend - foff : 0;
            int rc = pve_mem_map(e, pstart, pend - pstart, prot, PVE_VMA_FILE, flen ? fd : -1, foff, flen, obj);
            if (rc)
                return rc;
        }
        prev_end = pend;
        prev_prot = prot;
    }
    return PV_OK;
}

typedef struct stackbuf {
    pv_emu *e;
    uint64_t sp;
    int err;
} stackbuf;

static uint64_t push_bytes(stackbuf *b, const void *p, size_t n)
{
    b->sp -= n;
    if (b->sp < b->e->mem.stack_hi - (1u << 20) || pve_mem_write(b->e, b->sp, p, n))
        b->err = 1;
    return b->sp;
}

static uint64_t push_str(stackbuf *b, const char *s) { return push_bytes(b, s, strlen(s) + 1); }

static int build_stack(pv_emu *e, const char *const *envp, size_t envc)
{
    int rc = PV_OK;
    stackbuf b = {e, e->mem.stack_hi - 16, 0};
    int argc = e->opts.argc;
    uint64_t *argp = calloc((size_t)argc + 1, sizeof *argp);
    uint64_t *envpp = calloc(envc + 1, sizeof *envpp);
    if (!argp || !envpp) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    uint64_t execfn = push_str(&b, e->exe_path);
    for (size_t i = envc; i-- > 0;)
        envpp[i] = push_str(&b, envp[i]);
    for (int i = argc; i-- > 0;)
        argp[i] = push_str(&b, e->opts.argv[i]);
    uint64_t platform = push_str(&b, "x86_64");
    uint8_t rnd[16];
    pve_random_bytes(e, rnd, sizeof rnd);
    b.sp &= ~15ull;
    uint64_t random = push_bytes(&b, rnd, sizeof rnd);
    uint64_t uid = e->opts.deterministic ? 1000 : getuid(), gid = e->opts.deterministic ? 1000 : getgid();
    uint64_t euid = e->opts.deterministic ? 1000 : geteuid(), egid = e->opts.deterministic ? 1000 : getegid();
    uint64_t aux[][2] = {
        {AT_PHDR, e->exe->phdr_vaddr + e->exe_base},
        {AT_PHENT, sizeof(Elf64_Phdr)},
        {AT_PHNUM, e->exe->phnum},
        {AT_PAGESZ, PVE_PAGE},
        {AT_BASE, e->interp ? e->interp_base : 0},
        {AT_FLAGS, 0},
        {AT_ENTRY, e->exe->entry + e->exe_base},
        {AT_UID, uid},
        {AT_EUID, euid},
        {AT_GID, gid},
        {AT_EGID, egid},
        {AT_SECURE, 0},
        {AT_RANDOM, random},
        {AT_HWCAP, QEMU64_HWCAP},
        {AT_HWCAP2, 0},
        {AT_CLKTCK, 100},
        {AT_PLATFORM, platform},
        {AT_EXECFN, execfn},
        {AT_NULL, 0},
    };
    size_t nwords = 1 + (size_t)argc + 1 + envc + 1 + 2 * (sizeof aux / sizeof aux[0]);
    b.sp = (b.sp - nwords * 8) & ~15ull;
    uint64_t p = b.sp;
    uint64_t w = (uint64_t)argc;
#define PUT(v)                                                                                                  \
    do {                                                                                                        \
        w = (v);                                                                                                \
        if (pve_mem_write(e, p, &w, 8))                                                                         \
            b.err = 1;                                                                                          \
        p += 8;                                                                                                 \
    } while (0)
    PUT((uint64_t)argc);
    for (int i = 0; i < argc; i++)
        PUT(argp[i]);
    PUT(0);
    for (size_t i = 0; i < envc; i++)
        PUT(envpp[i]);
    PUT(0);
    for (size_t i = 0; i < sizeof aux / sizeof aux[0]; i++) {
        PUT(aux[i][0]);
        PUT(aux[i][1]);
    }
#undef PUT
    if (b.err) {
        rc = pv_error_set(PV_ERR_INVALID, "%s: arguments and environment do not fit in 1 MiB of stack", e->exe_arg);
        goto done;
    }
    uint64_t sp = b.sp, zero = 0;
    uc_reg_write(e->uc, UC_X86_REG_RSP, &sp);
    uc_reg_write(e->uc, UC_X86_REG_RDX, &zero); /* no rtld_fini for a static program's _start */
done:
    free(argp);
    free(envpp);
    return rc;
}

/* Search PATH for a bare command name, like execvp. */
static int find_program(const char *arg, char *out, size_t size)
{
    if (strchr(arg, '/')) {
        snprintf(out, size, "%s", arg);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *c = strchr(path, ':');
        size_t n = c ? (size_t)(c - path) : strlen(path);
        if (n && n + strlen(arg) + 2 <= size) {
            snprintf(out, size, "%.*s/%s", (int)n, path, arg);
            if (access(out, X_OK) == 0)
                return 0;
        }
        path += n + (c ? 1 : 0);
    }
    snprintf(out, size, "%s", arg);
    return -1;
}

int pve_load(pv_emu *e)
{
    int rc, fd = -1, ifd = -1;
    char given[PATH_MAX], canon[PATH_MAX];
    const char *arg = e->opts.argv[0];
    find_program(arg, given, sizeof given);
    if ((rc = read_elf(given, arg, &e->exe, &fd)))
        goto done;
    if (!realpath(given, canon)) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot resolve the path: %s", arg, strerror(errno));
        goto done;
    }
    if (!(e->exe_path = strdup(canon))) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (e->exe->type == ET_DYN && e->exe->entry == 0 && !e->exe->interp[0]) {
        rc = pv_error_set(PV_ERR_UNSUPPORTED, "%s: a shared library (ET_DYN without entry point), not an executable",
                          arg);
        goto done;
    }
    if (e->exe->interp[0]) {
        char ishown[PATH_MAX + 64];
        snprintf(ishown, sizeof ishown, "%s (the loader of %s)", e->exe->interp, arg);
        if ((rc = read_elf(e->exe->interp, ishown, &e->interp, &ifd)))
            goto done;
        if (e->interp->type != ET_DYN || e->interp->interp[0]) {
            rc = pv_error_set(PV_ERR_UNSUPPORTED, "%s: not a position-independent loader", ishown);
            goto done;
        }
        if (!realpath(e->exe->interp, canon) || !(e->interp_path = strdup(canon))) {
            rc = pv_error_set(PV_ERR_IO, "%s: cannot resolve the path", ishown);
            goto done;
        }
    }
    /* the executable */
    e->exe_base = e->exe->type == ET_DYN ? PIE_BASE - e->exe->lo : 0;
    uint32_t obj = pve_object_add(e, e->exe_path, e->exe_base);
    if (obj == PV_NONE) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    e->objs[obj].is_target = 1;
    if ((rc = map_image(e, e->exe, fd, e->exe_base, obj, arg)))
        goto done;
    e->mem.brk_start = PVE_PAGE_UP(e->exe->hi + e->exe_base);
    pve_mem_brk(e, 0);
    /* the loader, top-down below the mmap base like Linux */
    if (e->interp) {
        uint64_t span = e->interp->hi - e->interp->lo;
        uint64_t at = pve_mem_find_free(e, 0, span);
        if (!at) {
            rc = pv_error_set(PV_ERR_INTERNAL, "no room for the loader %s", e->interp_path);
            goto done;
        }
        e->interp_base = at - e->interp->lo;
        uint32_t iobj = pve_object_add(e, e->interp_path, e->interp_base);
        if (iobj == PV_NONE) {
            rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
            goto done;
        }
        if ((rc = map_image(e, e->interp, ifd, e->interp_base, iobj, e->interp_path)))
            goto done;
        e->entry = e->interp->entry + e->interp_base;
    } else {
        e->entry = e->exe->entry + e->exe_base;
    }
    /* the environment: the caller's, or a small clean one */
    const char *const *envp = e->opts.envp;
    char home[PATH_MAX + 8], tmp[PATH_MAX + 8];
    const char *defenv[] = {"PATH=/usr/local/bin:/usr/bin:/bin", home, tmp, "LANG=C", NULL};
    if (!envp) {
        snprintf(home, sizeof home, "HOME=%s", e->scratch);
        snprintf(tmp, sizeof tmp, "TMPDIR=%s", e->scratch);
        envp = defenv;
    }
    size_t envc = 0;
    while (envp[envc])
        envc++;
    if ((rc = build_stack(e, envp, envc)))
        goto done;
    uc_reg_write(e->uc, UC_X86_REG_RIP, &e->entry);
done:
    if (fd >= 0)
        close(fd);
    if (ifd >= 0)
        close(ifd);
    return rc;
}
