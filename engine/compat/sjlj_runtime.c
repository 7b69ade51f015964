/* setjmp/longjmp runtime for wasm32-wasi code compiled with clang's Wasm SjLj lowering
 * (-mexception-handling -mllvm -wasm-enable-sjlj -mllvm -wasm-use-legacy-eh=false).
 *
 * The lowering turns setjmp()/longjmp() into calls to the three functions below and catches
 * longjmps as Wasm exceptions carrying the tag __c_longjmp (payload: i32 pointer to {env, val}).
 *
 * zig 0.17.1's wasi-libc compiles its copy of these functions (musl/src/setjmp/wasm32/rt.c) only
 * into a libc built with the exception-handling target feature, i.e. only when the *link* line
 * carries -mexception-handling (which makes zig rebuild libc and libc++, minutes on first use),
 * and even then it does not define the __c_longjmp tag. This file and sjlj_tag.c supply all four,
 * so code with setjmp links with an ordinary link line. When libc's rt.o is also available it is
 * not pulled in: an archive member is only used for undefined symbols, and these are defined here.
 * The tag lives in its own file and so in its own archive member: a link that gets the three
 * functions from elsewhere still finds the tag without a duplicate definition.
 *
 * ABI (LLVM WebAssemblyLowerEmscriptenEHSjLj, https://github.com/llvm/llvm-project/pull/84137):
 *  - __wasm_setjmp(env, label, id) records a non-zero label and the calling function's invocation id.
 *  - __wasm_setjmp_test(env, id) returns the label if env was set by that same invocation, else 0.
 *  - __wasm_longjmp(env, val) throws __c_longjmp with a pointer to {env, val}; val 0 becomes 1.
 * The record lives in the caller's jmp_buf.
 */

#if !defined(__wasm_exception_handling__)
#error "sjlj_runtime.c must be compiled with -mexception-handling"
#endif

#include <setjmp.h>
#include <stdint.h>

struct sjlj_jmp_buf {
    void *func_invocation_id;
    uint32_t label;
    struct sjlj_arg {
        void *env;
        int val;
    } arg;
};

_Static_assert(sizeof(struct sjlj_jmp_buf) <= sizeof(jmp_buf), "jmp_buf too small for the sjlj record");

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id);
uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id);
_Noreturn void __wasm_longjmp(void *env, int val);

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id)
{
    struct sjlj_jmp_buf *jb = env;
    if (label == 0 || func_invocation_id == 0)
        __builtin_trap();
    jb->func_invocation_id = func_invocation_id;
    jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id)
{
    struct sjlj_jmp_buf *jb = env;
    if (jb->label == 0 || func_invocation_id == 0)
        __builtin_trap();
    return jb->func_invocation_id == func_invocation_id ? jb->label : 0;
}

_Noreturn void __wasm_longjmp(void *env, int val)
{
    struct sjlj_jmp_buf *jb = env;
    jb->arg.env = env;
    jb->arg.val = val == 0 ? 1 : val;
    __builtin_wasm_throw(1, &jb->arg); /* tag index 1 is C_LONGJMP, i.e. __c_longjmp */
}
