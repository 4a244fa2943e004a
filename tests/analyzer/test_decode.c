/* Tests for analyzer/decode.c: hand-assembled x86-64 bytes into mix classes (see mix.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/analyzer.h"

static pv_decoder *dec;

static int setup(void **state)
{
    (void)state;
    return pv_decoder_new(&dec, NULL) == PV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pv_decoder_free(dec);
    return 0;
}

#define DECODE(in, ...)                                                              \
    do {                                                                             \
        static const uint8_t b_[] = {__VA_ARGS__};                                   \
        assert_int_equal(pv_decode_insn(dec, b_, sizeof b_, 0x1000, &(in)), PV_OK); \
        assert_int_equal((in).size, sizeof b_);                                      \
    } while (0)

static void add_to_memory_is_load_alu_store(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0x48, 0x01, 0x03); /* add [rbx], rax */
    assert_int_equal(in.cls, PV_MIX_INT_ALU);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_loaded, 8);
    assert_int_equal(in.bytes_stored, 8);
    assert_int_equal(in.flow, PV_FLOW_NONE);
    assert_string_equal(in.text, "add qword ptr [rbx], rax");
    pv_mix m = {0};
    pv_insn_add_to_mix(&in, &m);
    assert_int_equal(m.n[PV_MIX_INT_ALU], 1);
    assert_int_equal(m.n[PV_MIX_LOAD], 1);
    assert_int_equal(m.n[PV_MIX_STORE], 1);
    assert_int_equal(pv_mix_total(&m), 3);
    assert_int_equal(m.bytes_loaded, 8);
}

static void pure_load_and_store(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0x48, 0x8b, 0x03); /* mov rax, [rbx] */
    assert_int_equal(in.cls, PV_INSN_NOCLASS);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.nstores, 0);
    assert_int_equal(in.bytes_loaded, 8);
    pv_mix m = {0};
    pv_insn_add_to_mix(&in, &m);
    assert_int_equal(pv_mix_total(&m), 1);
    DECODE(in, 0x89, 0x07); /* mov [rdi], eax */
    assert_int_equal(in.cls, PV_INSN_NOCLASS);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_stored, 4);
    DECODE(in, 0xf2, 0x0f, 0x10, 0x00); /* movsd xmm0, [rax]: SSE load, not a string op */
    assert_int_equal(in.cls, PV_INSN_NOCLASS);
    assert_int_equal(in.bytes_loaded, 8);
    assert_false(in.flags & PV_INSN_STRING);
    DECODE(in, 0x48, 0x89, 0xd8); /* mov rax, rbx */
    assert_int_equal(in.cls, PV_MIX_INT_ALU);
    assert_int_equal(in.nloads + in.nstores, 0);
}

static void fma_256_is_simd_fp_and_unsupported(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0xc4, 0xe2, 0xf5, 0xb8, 0xc2); /* vfmadd231pd ymm0, ymm1, ymm2 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_256);
    assert_true(in.flags & PV_INSN_TCG_UNSUPPORTED);
    assert_string_equal(in.ext, "FMA");
    assert_int_equal(in.vec_bits, 256);
    assert_string_equal(in.text, "vfmadd231pd ymm0, ymm1, ymm2");
    DECODE(in, 0xc5, 0xf5, 0xfe, 0xc2); /* vpaddd ymm0, ymm1, ymm2 */
    assert_int_equal(in.cls, PV_MIX_SIMD_INT_256);
    assert_true(in.flags & PV_INSN_TCG_UNSUPPORTED);
    assert_string_equal(in.ext, "AVX2");
    DECODE(in, 0x62, 0xf1, 0x74, 0x48, 0x58, 0xc2); /* vaddps zmm0, zmm1, zmm2 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_512);
    assert_string_equal(in.ext, "AVX-512");
    DECODE(in, 0x66, 0x0f, 0xfe, 0xc1); /* paddd xmm0, xmm1: SSE2 runs under TCG */
    assert_int_equal(in.cls, PV_MIX_SIMD_INT_128);
    assert_false(in.flags & PV_INSN_TCG_UNSUPPORTED);
    assert_null(in.ext);
    DECODE(in, 0x66, 0x0f, 0x59, 0xc1); /* mulpd xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_128);
    DECODE(in, 0x0f, 0x28, 0xc1); /* movaps xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_128);
}

static void scalar_fp(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0xf2, 0x0f, 0x5e, 0xc1); /* divsd xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_FP_DIVSQRT);
    assert_false(in.flags & PV_INSN_TCG_UNSUPPORTED);
    DECODE(in, 0xf2, 0x0f, 0x51, 0xc1); /* sqrtsd xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_FP_DIVSQRT);
    DECODE(in, 0xf2, 0x0f, 0x58, 0x00); /* addsd xmm0, [rax] */
    assert_int_equal(in.cls, PV_MIX_FP_ADD);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.bytes_loaded, 8);
    DECODE(in, 0xf2, 0x0f, 0x59, 0xc1); /* mulsd xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_FP_MUL);
    DECODE(in, 0xc4, 0xe2, 0xf1, 0xb9, 0xc2); /* vfmadd231sd xmm0, xmm1, xmm2 */
    assert_int_equal(in.cls, PV_MIX_FP_FMA);
    assert_true(in.flags & PV_INSN_TCG_UNSUPPORTED);
    DECODE(in, 0xf2, 0x48, 0x0f, 0x2a, 0xc0); /* cvtsi2sd xmm0, rax */
    assert_int_equal(in.cls, PV_MIX_FP_ADD);
    DECODE(in, 0xd8, 0xc1); /* fadd st(0), st(1) */
    assert_int_equal(in.cls, PV_MIX_FP_ADD);
    DECODE(in, 0xd8, 0xf9); /* fdivr st(0), st(1) */
    assert_int_equal(in.cls, PV_MIX_FP_DIVSQRT);
}

static void strings_atomics_crypto(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0xf3, 0xa4); /* rep movsb */
    assert_int_equal(in.cls, PV_MIX_STRING);
    assert_true(in.flags & PV_INSN_REP);
    assert_true(in.flags & PV_INSN_STRING);
    assert_int_equal(in.str_elem, 1);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_loaded, 1);
    assert_int_equal(in.bytes_stored, 1);
    DECODE(in, 0xf3, 0x48, 0xab); /* rep stosq */
    assert_int_equal(in.cls, PV_MIX_STRING);
    assert_int_equal(in.str_elem, 8);
    assert_int_equal(in.nloads, 0);
    assert_int_equal(in.bytes_stored, 8);
    DECODE(in, 0xf2, 0xae); /* repne scasb */
    assert_true(in.flags & PV_INSN_REPNE);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.nstores, 0);
    DECODE(in, 0xf0, 0x0f, 0xc1, 0x07); /* lock xadd [rdi], eax */
    assert_int_equal(in.cls, PV_MIX_ATOMIC);
    assert_true(in.flags & PV_INSN_LOCK);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_loaded, 4);
    DECODE(in, 0x48, 0x87, 0x07); /* xchg [rdi], rax: implicitly locked */
    assert_int_equal(in.cls, PV_MIX_ATOMIC);
    DECODE(in, 0x66, 0x0f, 0x38, 0xdc, 0xc1); /* aesenc xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_CRYPTO);
    assert_false(in.flags & PV_INSN_TCG_UNSUPPORTED);
    DECODE(in, 0x66, 0x0f, 0x3a, 0x44, 0xc1, 0x00); /* pclmulqdq xmm0, xmm1, 0 */
    assert_int_equal(in.cls, PV_MIX_CRYPTO);
    DECODE(in, 0x0f, 0x38, 0xcb, 0xca); /* sha256rnds2 xmm1, xmm2 */
    assert_int_equal(in.cls, PV_MIX_CRYPTO);
}

static void lea_nop_and_integer(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0x48, 0x8d, 0x44, 0x8b, 0x08); /* lea rax, [rbx+rcx*4+8] */
    assert_int_equal(in.cls, PV_MIX_INT_ALU);
    assert_int_equal(in.nloads + in.nstores, 0);
    assert_int_equal(in.bytes_loaded + in.bytes_stored, 0);
    DECODE(in, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00); /* nop word ptr [rax+rax] */
    assert_int_equal(in.cls, PV_MIX_OTHER);
    assert_int_equal(in.nloads, 0);
    assert_true(in.flags & PV_INSN_NOP);
    DECODE(in, 0x48, 0x0f, 0xaf, 0xc3); /* imul rax, rbx */
    assert_int_equal(in.cls, PV_MIX_INT_MUL);
    DECODE(in, 0x48, 0xf7, 0xf1); /* div rcx */
    assert_int_equal(in.cls, PV_MIX_INT_DIV);
    DECODE(in, 0x55); /* push rbp */
    assert_int_equal(in.cls, PV_INSN_NOCLASS);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_stored, 8);
    DECODE(in, 0x5d); /* pop rbp */
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.bytes_loaded, 8);
    assert_int_equal(in.nstores, 0);
}

/* Moves eliminated at rename (see move_eliminable() in analyzer/decode.c). */
static void eliminable_moves(void **state)
{
    (void)state;
    static const struct {
        uint8_t len, b[7];
        const char *text; /* NULL: not checked */
        int elim;
    } cases[] = {
        {3, {0x48, 0x89, 0xd8}, "mov rax, rbx", 1},
        {2, {0x89, 0xd8}, "mov eax, ebx", 1},
        {3, {0x4d, 0x89, 0xc8}, "mov r8, r9", 1},
        {3, {0x0f, 0x28, 0xc1}, "movaps xmm0, xmm1", 1},
        {4, {0xc5, 0xfd, 0x6f, 0xc1}, "vmovdqa ymm0, ymm1", 1},
        {2, {0x88, 0xd8}, "mov al, bl", 0},
        {3, {0x66, 0x89, 0xd8}, "mov ax, bx", 0},
        {3, {0x0f, 0xb6, 0xc3}, "movzx eax, bl", 0},
        {3, {0x48, 0x63, 0xc3}, "movsxd rax, ebx", 0},
        {3, {0x48, 0x8b, 0x03}, "mov rax, qword ptr [rbx]", 0},
        {3, {0x48, 0x89, 0x03}, "mov qword ptr [rbx], rax", 0},
        {7, {0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00}, "mov rax, 1", 0},
        {2, {0x89, 0xc0}, "mov eax, eax", 0},            /* zero-extends: not eliminated */
        {3, {0x0f, 0x20, 0xc0}, "mov rax, cr0", 0},      /* not a general-purpose source */
        {3, {0x0f, 0x28, 0x00}, NULL, 0},                /* movaps xmm0, [rax] */
        {5, {0x66, 0x48, 0x0f, 0x6e, 0xc0}, NULL, 0},    /* movq xmm0, rax: between register files */
        {6, {0x62, 0xf1, 0xfd, 0x48, 0x6f, 0xc1}, NULL, 0}, /* vmovdqa64 zmm0, zmm1 */
        {3, {0x48, 0x01, 0xd8}, "add rax, rbx", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pv_insn in;
        assert_int_equal(pv_decode_insn(dec, cases[i].b, cases[i].len, 0x1000, &in), PV_OK);
        assert_int_equal(in.size, cases[i].len);
        if (cases[i].text)
            assert_string_equal(in.text, cases[i].text);
        if (!!(in.flags & PV_INSN_MOVE_ELIM) != cases[i].elim)
            fail_msg("%s: PV_INSN_MOVE_ELIM %s", in.text, cases[i].elim ? "expected" : "not expected");
    }
    /* The class stays: no new mix class. */
    pv_insn in;
    DECODE(in, 0x48, 0x89, 0xd8); /* mov rax, rbx */
    assert_int_equal(in.cls, PV_MIX_INT_ALU);
    DECODE(in, 0x0f, 0x28, 0xc1); /* movaps xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_128);
}

/* AVX ops whose mnemonic starts with "vm" are vector ops, not VMX. */
static void avx_vm_mnemonics(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0xc5, 0xfc, 0x59, 0xc2); /* vmulps ymm0, ymm0, ymm2 */
    assert_string_equal(in.text, "vmulps ymm0, ymm0, ymm2");
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_256);
    DECODE(in, 0xc5, 0xfb, 0x59, 0xc1); /* vmulsd xmm0, xmm0, xmm1 */
    assert_int_equal(in.cls, PV_MIX_FP_MUL);
    DECODE(in, 0xc5, 0xfc, 0x5f, 0xc1); /* vmaxps ymm0, ymm0, ymm1 */
    assert_int_equal(in.cls, PV_MIX_SIMD_FP_256);
    DECODE(in, 0xc5, 0xfd, 0x6f, 0x03); /* vmovdqa ymm0, [rbx] */
    assert_int_equal(in.cls, PV_INSN_NOCLASS);
    assert_int_equal(in.nloads, 1);
    assert_int_equal(in.bytes_loaded, 32);
    DECODE(in, 0x0f, 0x01, 0xc1); /* vmcall */
    assert_int_equal(in.cls, PV_MIX_OTHER);
}

static void control_flow(void **state)
{
    (void)state;
    pv_insn in;
    DECODE(in, 0xe8, 0x00, 0x00, 0x00, 0x00); /* call 0x1005 */
    assert_int_equal(in.flow, PV_FLOW_CALL);
    assert_int_equal(in.cls, PV_MIX_CALL);
    assert_int_equal(in.target, 0x1005);
    assert_int_equal(in.nstores, 1);
    assert_int_equal(in.bytes_stored, 8);
    DECODE(in, 0xc3); /* ret */
    assert_int_equal(in.flow, PV_FLOW_RET);
    assert_int_equal(in.cls, PV_MIX_RET);
    assert_int_equal(in.nloads, 1);
    DECODE(in, 0x75, 0x02); /* jne 0x1004 */
    assert_int_equal(in.flow, PV_FLOW_COND);
    assert_int_equal(in.cls, PV_MIX_BRANCH_COND);
    assert_int_equal(in.target, 0x1004);
    DECODE(in, 0xeb, 0xfe); /* jmp 0x1000 */
    assert_int_equal(in.flow, PV_FLOW_JUMP);
    assert_int_equal(in.target, 0x1000);
    DECODE(in, 0xff, 0x24, 0xc5, 0x00, 0x40, 0x00, 0x00); /* jmp [rax*8+0x4000] */
    assert_int_equal(in.flow, PV_FLOW_IJUMP);
    assert_int_equal(in.cls, PV_MIX_JUMP);
    assert_true(in.flags & PV_INSN_MEM_TARGET);
    assert_int_equal(in.nloads, 1);
    DECODE(in, 0xff, 0xd0); /* call rax */
    assert_int_equal(in.flow, PV_FLOW_ICALL);
    DECODE(in, 0x0f, 0x05); /* syscall */
    assert_int_equal(in.flow, PV_FLOW_SYSCALL);
    assert_int_equal(in.cls, PV_MIX_SYSCALL);
    DECODE(in, 0x0f, 0x0b); /* ud2 */
    assert_int_equal(in.flow, PV_FLOW_HALT);
    assert_string_equal(pv_flow_name(PV_FLOW_ICALL), "icall");
}

static void undecodable(void **state)
{
    (void)state;
    pv_insn in;
    static const uint8_t bad[] = {0x06}; /* push es: invalid in 64-bit mode */
    assert_int_equal(pv_decode_insn(dec, bad, sizeof bad, 0x2000, &in), PV_ERR_FORMAT);
    assert_int_equal(in.size, 0);
    assert_non_null(strstr(pv_error_last(), "0x2000: cannot decode the bytes [06]"));
    static const uint8_t trunc[] = {0x48, 0x8b}; /* mov rax, [..] cut short */
    assert_int_equal(pv_decode_insn(dec, trunc, sizeof trunc, 0x10, &in), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "buffer ends"));
    assert_int_equal(pv_decode_insn(NULL, trunc, 2, 0, &in), PV_ERR_INVALID);
}

static void text_off_is_empty(void **state)
{
    (void)state;
    pv_decoder_options o = PV_DECODER_OPTIONS_INIT;
    o.text = 0;
    pv_decoder *d2 = NULL;
    assert_int_equal(pv_decoder_new(&d2, &o), PV_OK);
    pv_insn in;
    static const uint8_t b[] = {0x48, 0x01, 0x03};
    assert_int_equal(pv_decode_insn(d2, b, sizeof b, 0, &in), PV_OK);
    assert_string_equal(in.text, "");
    assert_int_equal(in.cls, PV_MIX_INT_ALU);
    pv_decoder_free(d2);
    o.version = 99;
    assert_int_equal(pv_decoder_new(&d2, &o), PV_ERR_INVALID);
    assert_null(d2);
}

/* Capstone 5 numbers compare pseudo-ops by predicate (cmplesd gets cmpsb's id):
 * every predicate is still a floating-point compare. */
static void compare_predicates(void **state)
{
    (void)state;
    for (uint8_t imm = 0; imm < 9; imm++) {
        uint8_t sd[] = {0xf2, 0x0f, 0xc2, 0x47, 0x28, imm}; /* cmpXXsd xmm0, [rdi+0x28] */
        uint8_t ps[] = {0xc5, 0xfc, 0xc2, 0xc1, imm};      /* vcmpXXps ymm0, ymm0, ymm1 */
        pv_insn in;
        assert_int_equal(pv_decode_insn(dec, sd, sizeof sd, 0x1000, &in), PV_OK);
        assert_int_equal(in.cls, PV_MIX_FP_ADD);
        assert_int_equal(in.nloads, 1);
        assert_false(in.flags & PV_INSN_STRING);
        assert_int_equal(pv_decode_insn(dec, ps, sizeof ps, 0x1000, &in), PV_OK);
        assert_int_equal(in.cls, PV_MIX_SIMD_FP_256);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_to_memory_is_load_alu_store),
        cmocka_unit_test(pure_load_and_store),
        cmocka_unit_test(fma_256_is_simd_fp_and_unsupported),
        cmocka_unit_test(scalar_fp),
        cmocka_unit_test(strings_atomics_crypto),
        cmocka_unit_test(lea_nop_and_integer),
        cmocka_unit_test(eliminable_moves),
        cmocka_unit_test(avx_vm_mnemonics),
        cmocka_unit_test(control_flow),
        cmocka_unit_test(undecodable),
        cmocka_unit_test(text_off_is_empty),
        cmocka_unit_test(compare_predicates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
