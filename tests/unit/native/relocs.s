# Fixture for tests/unit/test_native_obj.c: the relocation types C code at -O2 rarely emits
# (R_X86_64_PC64, R_X86_64_32 and 32S within range, plain GOTPCREL, NONE).
        .text
        .globl  asm_pc64_target
        .type   asm_pc64_target,@function
asm_pc64_target:                  # returns the address asm_pc64_slot says asm_target is at
        leaq    asm_pc64_slot(%rip), %rax
        addq    (%rax), %rax
        ret
        .size   asm_pc64_target, .-asm_pc64_target

        .globl  asm_target
        .type   asm_target,@function
asm_target:
        movl    $7, %eax
        ret
        .size   asm_target, .-asm_target

        .globl  asm_small_values    # ext_small (resolved to 0x1000) by R_X86_64_32 + 32S
        .type   asm_small_values,@function
asm_small_values:
        movl    $ext_small, %eax
        movq    $ext_small + 0x10, %rdx
        addq    %rdx, %rax
        ret
        .size   asm_small_values, .-asm_small_values

        .globl  asm_got_plain       # *ext_counter through a plain GOTPCREL (push is not relaxable)
        .type   asm_got_plain,@function
asm_got_plain:
        pushq   ext_counter@GOTPCREL(%rip)
        popq    %rax
        movl    (%rax), %eax
        .reloc  ., R_X86_64_NONE, asm_target
        ret
        .size   asm_got_plain, .-asm_got_plain

        .section .rodata
        .p2align 3
asm_pc64_slot:
        .quad   asm_target - .
        .section .note.GNU-stack,"",@progbits
