/* The Wasm exception tag that clang's setjmp/longjmp lowering throws and catches (see sjlj_runtime.c):
 * __c_longjmp, one i32 parameter (a pointer to the {env, val} record). zig 0.17.1's wasi-libc does not
 * define it. Compile with -mexception-handling. */

#if !defined(__wasm_exception_handling__)
#error "sjlj_tag.c must be compiled with -mexception-handling"
#endif

__asm__(".globl __c_longjmp\n"
        ".tagtype __c_longjmp i32\n"
        "__c_longjmp:\n");
