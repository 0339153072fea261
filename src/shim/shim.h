/* shim/shim.h — the entry point of the shim binary: wasmbox run under a name
 * containerd-shim-<runtime>-v1 (a link: containerd-shim-wasmbox-v1, -wasmedge-v1, -wasmtime-v1,
 * -wasmer-v1). See shim.c and service.h. */
#ifndef WB_SHIM_SHIM_H
#define WB_SHIM_SHIM_H

#define WB_SHIM_VERSION "0.1.0"

/* argv as containerd passes it: [-debug] -namespace NS -address A -publish-binary P -id ID
 * [-bundle B] start|delete, or -info. Returns the process's exit status. */
int wb_shim_main(int argc, char **argv);

#endif
