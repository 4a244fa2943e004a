/* fileio: write n KiB of generated data to FILE, read it back in 4 KiB chunks and print its Adler-32; O(n) time, I/O bound. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK 4096

static uint32_t adler32(uint32_t adler, const unsigned char *p, size_t n)
{
    uint32_t a = adler & 0xffff, b = adler >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

int main(int argc, char **argv)
{
    if (argc < 3 || atol(argv[1]) < 0) {
        fprintf(stderr, "usage: fileio N FILE (write N KiB to FILE, read it back, print its checksum)\n");
        return 2;
    }
    long kib = atol(argv[1]);
    const char *path = argv[2];
    unsigned char buf[CHUNK];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    uint32_t seed = 12345;
    for (long k = 0; k < kib / 4 + (kib % 4 != 0); k++) {
        for (int i = 0; i < CHUNK; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (unsigned char)(seed >> 16);
        }
        size_t want = (k == kib / 4 && kib % 4) ? (size_t)(kib % 4) * 1024 : CHUNK;
        if (write(fd, buf, want) != (ssize_t)want) {
            perror("write");
            return 1;
        }
    }
    close(fd);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    uint32_t sum = 1;
    long total = 0;
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        sum = adler32(sum, buf, (size_t)got);
        total += got;
    }
    close(fd);
    printf("fileio n=%ldKiB bytes=%ld adler32=%08x\n", kib, total, sum);
    return got < 0;
}
