/* Tests for common/error.c: codes, messages, per-thread detail. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/error.h"

static void set_and_read(void **state)
{
    (void)state;
    pv_error_clear();
    assert_string_equal(pv_error_last(), "");
    assert_int_equal(pv_error_set(PV_ERR_FORMAT, "%s: bad %d", "f.json", 3), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "f.json: bad 3");
    assert_int_equal(pv_error_last_code(), PV_ERR_FORMAT);
    pv_error_prefix(PV_ERR_FORMAT, "while loading %s", "x");
    assert_string_equal(pv_error_last(), "while loading x: f.json: bad 3");
    pv_error_clear();
    assert_int_equal(pv_error_last_code(), PV_OK);
}

static void every_code_has_a_text(void **state)
{
    (void)state;
    for (int c = PV_OK; c >= PV_ERR_INTERNAL; c--)
        assert_string_not_equal(pv_strerror(c), "unknown error");
    assert_string_equal(pv_strerror(-999), "unknown error");
}

static void long_messages_truncate(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pv_error_set(PV_ERR_IO, "%s", big);
    assert_int_equal(strlen(pv_error_last()), 1023);
}

static void *other_thread(void *arg)
{
    (void)arg;
    pv_error_set(PV_ERR_IO, "from the other thread");
    return NULL;
}

static void messages_are_per_thread(void **state)
{
    (void)state;
    pv_error_set(PV_ERR_FORMAT, "mine");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(pv_error_last(), "mine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_and_read),
        cmocka_unit_test(every_code_has_a_text),
        cmocka_unit_test(long_messages_truncate),
        cmocka_unit_test(messages_are_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
