/* The quick start's WASI command: prints a greeting with its arguments. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from WebAssembly!");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    return 0;
}
