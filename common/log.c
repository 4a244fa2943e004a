#include "prevision/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pv_log_fn log_fn;
static void *log_ud;

void pv_log_set_handler(pv_log_fn fn, void *ud)
{
    log_fn = fn;
    log_ud = ud;
}

void pv_log(pv_log_level level, const char *fmt, ...)
{
    if (!log_fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(log_ud, level, msg);
}

struct pv_progress_bar {
    FILE *out;
    int active;        /* a terminal and not quiet */
    int drawn;         /* something is on the line */
    double last_draw;  /* seconds */
    double start;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

pv_progress_bar *pv_progress_bar_new(FILE *out, int force_quiet)
{
    pv_progress_bar *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->out = out;
    b->active = !force_quiet && out && isatty(fileno(out));
    b->start = now_s();
    return b;
}

void pv_progress_bar_update(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    pv_progress_bar *b = ud;
    if (!b || !b->active)
        return;
    double t = now_s();
    int finished = total && done >= total;
    if (!finished && t - b->last_draw < 0.1)
        return;
    b->last_draw = t;
    char bar[31];
    if (total) {
        int fill = (int)(30.0 * (double)(done > total ? total : done) / (double)total);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '-', (size_t)(30 - fill));
        bar[30] = '\0';
        fprintf(b->out, "\r\033[K%-14.14s [%s] %5.1f%%  %.1fs", phase ? phase : "", bar,
                100.0 * (double)done / (double)total, t - b->start);
    } else {
        fprintf(b->out, "\r\033[K%-14.14s %llu  %.1fs", phase ? phase : "", (unsigned long long)done, t - b->start);
    }
    fflush(b->out);
    b->drawn = 1;
}

void pv_progress_bar_free(pv_progress_bar *b)
{
    if (!b)
        return;
    if (b->drawn) {
        fputs("\r\033[K", b->out);
        fflush(b->out);
    }
    free(b);
}
