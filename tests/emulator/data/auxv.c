/* auxv: prints what the loader gave the program: arguments, environment, auxiliary vector, TLS. */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static __thread int tls_var = 42;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env=%s\n", *e);
    printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
    printf("clktck=%lu\n", getauxval(AT_CLKTCK));
    printf("phent=%lu\n", getauxval(AT_PHENT));
    printf("secure=%lu\n", getauxval(AT_SECURE));
    printf("random=%s\n", getauxval(AT_RANDOM) ? "set" : "missing");
    printf("sysinfo_ehdr=%lu\n", getauxval(AT_SYSINFO_EHDR));
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    printf("platform=%s\n", plat ? plat : "missing");
    const char *fn = (const char *)getauxval(AT_EXECFN);
    printf("execfn=%s\n", fn && strstr(fn, "auxv") ? "auxv" : "missing");
    printf("tls=%d\n", tls_var);
    char cwd[4096];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? "ok" : "failed");
    unsigned r = 0;
    printf("getrandom=%zd\n", getrandom(&r, sizeof r, 0));
    printf("random_bytes=%08x\n", r);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("time=%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    printf("pid=%d\n", (int)getpid());
    return 0;
}
