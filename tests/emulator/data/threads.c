/* threads: guest threads for the emulator's scheduler tests.
 *   pingpong N   two threads hand a token back and forth N times (condition variables)
 *   timedwait    a condition wait that times out (nobody signals)
 *   deadlock     two threads lock two mutexes in opposite orders and wait for each other
 *   mainexit     main calls pthread_exit; the worker finishes the program */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn, rounds;

static void *pong(void *arg)
{
    long me = (long)arg;
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&m);
        while (turn != me)
            pthread_cond_wait(&cv, &m);
        turn = !me;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *lock_b_then_a(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m2);
    usleep(1000);
    pthread_mutex_lock(&m);
    return NULL;
}

static void *late_worker(void *arg)
{
    (void)arg;
    usleep(1000);
    printf("worker done\n");
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pingpong";
    if (!strcmp(mode, "pingpong")) {
        rounds = argc > 2 ? atol(argv[2]) : 100;
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, pong, (void *)i);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        printf("pingpong %ld done, turn %ld\n", rounds, turn);
        return 0;
    }
    if (!strcmp(mode, "timedwait")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&m);
        int rc = pthread_cond_timedwait(&cv, &m, &ts);
        pthread_mutex_unlock(&m);
        printf("timedwait: %s\n", rc == ETIMEDOUT ? "timed out" : strerror(rc));
        return 0;
    }
    if (!strcmp(mode, "deadlock")) {
        pthread_t t;
        pthread_mutex_lock(&m);
        pthread_create(&t, NULL, lock_b_then_a, NULL);
        usleep(1000);
        pthread_mutex_lock(&m2);
        printf("unreachable\n");
        return 0;
    }
    if (!strcmp(mode, "mainexit")) {
        pthread_t t;
        pthread_create(&t, NULL, late_worker, NULL);
        pthread_exit(NULL);
    }
    return 2;
}
