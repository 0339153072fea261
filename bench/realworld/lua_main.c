/* Lua workload for bench/realworld.sh: the Lua 5.4 interpreter (Debian's lua5.4 sources) running
 * bench.lua, which is compiled in (bench_lua.inc, generated from it as a C string). Only the
 * base, string, table, math and utf8 libraries are opened: the script needs no files, no OS and
 * no coroutines. Built with lua_bench.h forced in (no setjmp: wasi-libc has none), the same for
 * the native and the wasm32-wasi build. The script prints its own checksums. */
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

static const char script[] =
#include "bench_lua.inc"
    ;

int main(int argc, char **argv) {
    lua_State *L = luaL_newstate();
    if (!L) return 1;
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushinteger(L, argc > 1 ? atoi(argv[1]) : 1);
    lua_setglobal(L, "N");
    if (luaL_loadbuffer(L, script, sizeof script - 1, "=bench.lua") != LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_close(L);
    return 0;
}
