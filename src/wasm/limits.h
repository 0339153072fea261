/* Limits on what a module may declare, checked before any allocation sized by the input
 * (the same figures as wasm-tools / the JS embedding API). */
#ifndef WB_WASM_LIMITS_H
#define WB_WASM_LIMITS_H

#define WB_MAX_TYPES         1000000u
#define WB_MAX_FUNCS         1000000u
#define WB_MAX_IMPORTS       1000000u
#define WB_MAX_EXPORTS       1000000u
#define WB_MAX_GLOBALS       1000000u
#define WB_MAX_DATA_SEGMENTS 100000u
#define WB_MAX_ELEM_SEGMENTS 100000u
#define WB_MAX_TABLES        100000u
#define WB_MAX_MEMORIES      100000u   /* decoded; the validator allows one */
#define WB_MAX_ELEM_ITEMS    10000000u /* items in one element segment */
#define WB_MAX_TABLE_SIZE    10000000u /* elements a table may be created with or grow to */
#define WB_MAX_LOCALS        50000u    /* per function, params included */
#define WB_MAX_PARAMS        1000u
#define WB_MAX_RESULTS       1000u
#define WB_MAX_NESTING       10000u       /* block/loop/if depth */
#define WB_MAX_STRING        100000u      /* import/export names, name-section entries */
#define WB_MAX_FUNC_BODY     (128u << 20) /* bytes of one function body */
#define WB_MAX_BR_TABLE      1000000u     /* labels of one br_table */

#endif
