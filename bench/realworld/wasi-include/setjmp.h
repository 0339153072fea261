/* wasi-libc has no setjmp.h; Lua's ldo.c includes it but, built with lua_bench.h, uses none of it. */
