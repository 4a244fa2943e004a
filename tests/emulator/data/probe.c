/* probe: one sandbox probe per invocation, for the emulator's sandbox tests.
 * Prints "ACTION: ok" or "ACTION: <strerror>" and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *what, int rc)
{
    printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: probe read PATH | write PATH | stat PATH | mkdir PATH | unlink PATH | socket | exec | fork | kill | ptrace | spin | alloc MIB\n");
        return 2;
    }
    const char *a = argv[1], *path = argc > 2 ? argv[2] : "";
    if (!strcmp(a, "read")) {
        int fd = open(path, O_RDONLY);
        char c;
        if (fd >= 0 && read(fd, &c, 1) < 0)
            fd = -1;
        return report("read", fd);
    }
    if (!strcmp(a, "write")) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0 && write(fd, "probe\n", 6) != 6)
            fd = -1;
        if (fd >= 0)
            close(fd);
        return report("write", fd);
    }
    if (!strcmp(a, "stat")) {
        struct stat st;
        return report("stat", stat(path, &st));
    }
    if (!strcmp(a, "mkdir"))
        return report("mkdir", mkdir(path, 0755));
    if (!strcmp(a, "unlink"))
        return report("unlink", unlink(path));
    if (!strcmp(a, "socket"))
        return report("socket", socket(AF_INET, SOCK_STREAM, 0));
    if (!strcmp(a, "exec")) {
        char *args[] = {"/bin/true", NULL};
        return report("exec", execv("/bin/true", args));
    }
    if (!strcmp(a, "fork")) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        if (p > 0)
            waitpid(p, NULL, 0);
        return report("fork", p);
    }
    if (!strcmp(a, "kill"))
        return report("kill", kill(1, SIGTERM));
    if (!strcmp(a, "ptrace"))
        return report("ptrace", (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    if (!strcmp(a, "spin")) {
        volatile unsigned long n = 0;
        for (;;)
            n++;
    }
    if (!strcmp(a, "alloc")) {
        long mib = atol(path);
        for (long i = 0; i < mib; i++) {
            char *p = malloc(1 << 20);
            if (!p)
                return report("alloc", -1);
            memset(p, 1, 1 << 20);
        }
        return report("alloc", 0);
    }
    fprintf(stderr, "probe: unknown action %s\n", a);
    return 2;
}
