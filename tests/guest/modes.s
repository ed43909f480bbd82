# modes.s - kemu bare-metal test: CPU operating modes and integer results.
#
# Starts in 32-bit protected mode (multiboot v1), runs integer operations
# and prints results and the flags each defines; drops to real mode
# through a 16-bit protected-mode segment (Intel SDM vol. 3A 9.9.2), runs
# 16-bit and 32-bit-prefixed operations, segment arithmetic and a far
# call; returns to protected mode; then enters long mode (CR4.PAE, 4-level
# paging with 2 MiB pages identity-mapping 1 GiB, EFER.LME, CR0.PG; SDM
# 9.8.5), runs 64-bit operations, a compatibility-mode excursion and a #UD
# exception returned with IRETQ, and exits from 64-bit mode. Flags that
# the SDM leaves undefined for an operation are masked out. No SSE/x87.
    .include "common.inc"

    .set LOW, 0x7000                # real-mode code is copied here
    .set RM_STACK, 0x6ff0
    .set F_ALL, 0x8d5               # OF SF ZF AF PF CF
    .set F_LOGIC, 0x8c5             # AF undefined
    .set F_SHIFTN, 0x0c5            # OF and AF undefined (count > 1)
    .set F_CFOF, 0x801
    .set F_ZF, 0x040
    .set F_CF, 0x001
    .set F_NONE, 0x000
    .set F_BCD, 0x0d5               # DAA/DAS: OF undefined

# OP32 name, insn, a, b, flags-in, flags-mask: EAX = a, EBX = ECX = b,
# EDX = 0, EFLAGS = flags-in; runs insn; prints EAX, EDX and masked flags.
.macro OP32 name, insn, a, b, fin, fmask
    PRINT "pm32 \name "
    movl $\a, %eax
    movl $\b, %ebx
    movl %ebx, %ecx
    xorl %edx, %edx
    pushl $\fin
    popfl
    \insn
    pushfl
    call puthex32
    call space
    movl %edx, %eax
    call puthex32
    PRINT " fl "
    popl %eax
    andl $\fmask, %eax
    call puthex16
    call newline
.endm

main:
    PRINTLN "KEMU-TEST modes"
    PRINT "multiboot magic "
    movl mb_magic_seen, %eax
    call puthex32
    PRINT " cr0.pe "
    movl %cr0, %eax
    andl $1, %eax
    call puthex8
    call newline

    OP32 add, "addl %ebx, %eax", 0x7fffffff, 1, 0x2, F_ALL
    OP32 adc, "adcl %ebx, %eax", 0xffffffff, 0, 0x3, F_ALL
    OP32 sub, "subl %ebx, %eax", 0, 1, 0x2, F_ALL
    OP32 sbb, "sbbl %ebx, %eax", 5, 3, 0x3, F_ALL
    OP32 and, "andl %ebx, %eax", 0xf0f0f0f0, 0x0ff00ff0, 0x2, F_LOGIC
    OP32 xor, "xorl %ebx, %eax", 0x12345678, 0x12345678, 0x2, F_LOGIC
    OP32 inc, "incl %eax", 0xffffffff, 0, 0x3, F_ALL
    OP32 neg, "negl %eax", 0x80000000, 0, 0x2, F_ALL
    OP32 imul, "imull %ebx, %eax", 0x12345678, 0x9abcdef, 0x2, F_CFOF
    OP32 mul, "mull %ebx", 0x12345678, 0x9abcdef, 0x2, F_CFOF
    OP32 div, "movl $0x11, %edx; divl %ebx", 0x12345678, 0x9abcdef, 0x2, F_NONE
    OP32 idiv, "cltd; idivl %ebx", -1000000, 7, 0x2, F_NONE
    OP32 shl, "shll %cl, %eax", 0x87654321, 4, 0x2, F_SHIFTN
    OP32 shr1, "shrl $1, %eax", 0x80000001, 0, 0x2, F_LOGIC
    OP32 sar, "sarl %cl, %eax", 0x80000000, 31, 0x2, F_SHIFTN
    OP32 rol, "roll %cl, %eax", 0x80000001, 8, 0x2, F_CF
    OP32 rcr1, "rcrl $1, %eax", 0x00000002, 0, 0x3, F_CFOF
    OP32 shld, "shldl %cl, %ebx, %eax", 0x12345678, 0x8, 0x2, F_SHIFTN
    OP32 bsf, "bsfl %ebx, %eax", 0, 0x00f00000, 0x2, F_ZF
    OP32 bsr, "bsrl %ebx, %eax", 0, 0x00f00000, 0x2, F_ZF
    OP32 bt, "btl %ecx, %eax", 0x00000010, 4, 0x2, F_CF
    OP32 bswap, "bswapl %eax", 0x12345678, 0, 0x2, F_NONE
    OP32 movsx, "movsbl %bl, %eax", 0, 0x80, 0x2, F_NONE
    OP32 lea, "leal 0x10(%eax,%ebx,4), %eax", 0x1000, 0x20, 0x2, F_NONE
    OP32 cmov, "cmpl %ebx, %eax; cmovll %ebx, %eax", 5, 9, 0x2, F_ALL
    OP32 setb, "cmpl %ebx, %eax; setb %al", 0x100, 0x200, 0x2, F_ALL
    OP32 xadd, "xaddl %eax, %ebx; movl %ebx, %edx", 3, 4, 0x2, F_ALL
    OP32 cmpxchg, "movl $7, %ecx; cmpxchgl %ecx, %ebx; movl %ebx, %edx", 4, 4, 0x2, F_ALL
    OP32 string, "movl $str_src, %esi; movl $str_dst, %edi; rep movsb; movl str_dst, %eax; movl %ecx, %edx", 0, 4, 0x2, F_NONE

    call go_real
    PRINT "back in protected mode, cr0.pe "
    movl %cr0, %eax
    andl $1, %eax
    call puthex8
    PRINT " rm result word "
    movzwl rm_result, %eax
    call puthex16
    call newline

    jmp go_long                     # does not return

# ---------------------------------------------------------------- real mode

# go_real: copies the 16-bit code below 1 MiB and runs it in real mode;
# it comes back to pm_again, which returns from here.
go_real:
    movl $low_start, %esi
    movl $LOW, %edi
    movl $(low_end - low_start), %ecx
    rep movsb
    movl %esp, saved_esp
    ljmp $SEL_CODE16, $(rm_entry16 - low_start + LOW)

pm_again:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl saved_esp, %esp
    lidt idt_desc
    ret

# RPRINT "text": real-mode print of an inline string (DS = 0).
.macro RPRINT str
    pushw %si
    movw $(.Lrs\@ - low_start + LOW), %si
    call rm_puts
    popw %si
    jmp .Lre\@
.Lrs\@: .asciz "\str"
.Lre\@:
.endm

# ROP name, insn, a, b, flags-in, flags-mask: 16-bit version of OP32.
.macro ROP name, insn, a, b, fin, fmask
    RPRINT "real \name "
    movw $\a, %ax
    movw $\b, %bx
    movw %bx, %cx
    xorw %dx, %dx
    pushw $\fin
    popfw
    \insn
    pushfw
    call rm_hex16
    call rm_space
    movw %dx, %ax
    call rm_hex16
    RPRINT " fl "
    popw %ax
    andw $\fmask, %ax
    call rm_hex16
    call rm_newline
.endm

    .code16
low_start:
rm_entry16:                         # 16-bit protected mode, base 0
    movw $SEL_DATA16, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr0, %eax
    andl $0xfffffffe, %eax
    movl %eax, %cr0
    ljmp $0, $(rm_real - low_start + LOW)
rm_real:
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movw $RM_STACK, %sp
    lidt (rm_idt_desc - low_start + LOW)
    RPRINT "real mode reached, cr0.pe "
    movl %cr0, %eax
    andw $1, %ax
    call rm_hex16
    RPRINT " cs "
    movw %cs, %ax
    call rm_hex16
    call rm_newline

    ROP add, "addw %bx, %ax", 0x7fff, 1, 0x2, F_ALL
    ROP adc, "adcw %bx, %ax", 0xffff, 0, 0x3, F_ALL
    ROP sub, "subw %bx, %ax", 0x0010, 0x0011, 0x2, F_ALL
    ROP dec, "decw %ax", 0x8000, 0, 0x3, F_ALL
    ROP mul, "mulw %bx", 0x1234, 0x5678, 0x2, F_CFOF
    ROP div, "movw $0x12, %dx; divw %bx", 0x3456, 0x1234, 0x2, F_NONE
    ROP imul3, "imulw $-3, %bx, %ax", 0, 0x1000, 0x2, F_CFOF
    ROP shr, "shrw %cl, %ax", 0x8421, 3, 0x2, F_SHIFTN
    ROP rcl1, "rclw $1, %ax", 0x8000, 0, 0x3, F_CFOF
    ROP aam, "aam", 0x003f, 0, 0x2, 0x0c4
    ROP aad, "aad", 0x0603, 0, 0x2, 0x0c4
    ROP op32, "movl $0x89abcdef, %eax; addl $0x76543200, %eax; pushfw; shrl $16, %eax; movw %ax, %dx; popfw", 0, 0, 0x2, F_ALL
    ROP xlat, "movw $(rm_table - low_start + LOW), %bx; xlat", 0x0003, 0, 0x2, F_NONE
    ROP segment, "movw $0x500, %cx; movw %cx, %es; movw $0xbeef, %es:0x10; movw $0x501, %cx; movw %cx, %ds; movw 0, %ax; xorw %cx, %cx; movw %cx, %ds; movw %cx, %es", 0, 0, 0x2, F_NONE
    ROP farcall, "lcall $(LOW >> 4), $(rm_far - low_start); movw %ax, (rm_result_low - low_start + LOW)", 0x1111, 0, 0x2, F_NONE
    ROP loop, "xorw %ax, %ax; 1: incw %ax; loop 1b", 0, 5, 0x2, F_NONE

    # back to protected mode
    cli
    movw (rm_result_low - low_start + LOW), %bx
    lgdtl (rm_gdt_desc - low_start + LOW)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $pm_again_stub

# a far procedure: CS = LOW >> 4 here
rm_far:
    movw %cs, %ax
    xorw $0x1234, %ax
    lret

rm_putc:
    pushw %ax
    pushw %dx
    movb %al, %ah
    movw $COM1+5, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    movb %ah, %al
    movw $COM1, %dx
    outb %al, %dx
    popw %dx
    popw %ax
    ret

rm_puts:
    pushw %ax
    pushw %si
1:  lodsb
    testb %al, %al
    jz 2f
    call rm_putc
    jmp 1b
2:  popw %si
    popw %ax
    ret

rm_space:
    pushw %ax
    movb $' ', %al
    call rm_putc
    popw %ax
    ret

rm_newline:
    pushw %ax
    movb $'\n', %al
    call rm_putc
    popw %ax
    ret

rm_hex16:
    pushw %ax
    pushw %bx
    pushw %cx
    movw %ax, %bx
    movw $4, %cx
1:  rolw $4, %bx
    movb %bl, %al
    andb $0xf, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 2f
    addb $('a' - '9' - 1), %al
2:  call rm_putc
    loop 1b
    popw %cx
    popw %bx
    popw %ax
    ret

rm_table:
    .byte 0x10, 0x20, 0x30, 0x40, 0x50
    .align 4
rm_result_low:
    .word 0
    .word 0
rm_idt_desc:
    .word 0x3ff
    .long 0
    .word 0
rm_gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
low_end:
    .code32

pm_again_stub:
    movw $SEL_DATA32, %ax           # real-mode segment limits are 64 KiB
    movw %ax, %ds
    movw %bx, rm_result
    jmp pm_again

# ---------------------------------------------------------------- long mode

.macro PRINT64 str
    .pushsection .rodata
.Lstr\@: .asciz "\str"
    .popsection
    pushq %rsi
    movl $.Lstr\@, %esi
    call puts64
    popq %rsi
.endm

# OP64: 64-bit version of OP32 (RAX, RBX = RCX, RDX printed).
.macro OP64 name, insn, a, b, fin, fmask
    PRINT64 "lm64 \name "
    movabsq $\a, %rax
    movabsq $\b, %rbx
    movq %rbx, %rcx
    xorl %edx, %edx
    pushq $\fin
    popfq
    \insn
    pushfq
    call puthex64
    call space64
    movq %rdx, %rax
    call puthex64
    PRINT64 " fl "
    popq %rax
    andl $\fmask, %eax
    movl $4, %ecx
    call puthex64_n
    call newline64
.endm

go_long:
    # page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD = 512 x 2 MiB
    movl $pdpt, %eax
    orl $0x3, %eax
    movl %eax, pml4
    movl $pd, %eax
    orl $0x3, %eax
    movl %eax, pdpt
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                 # present, writable, 2 MiB page
    movl %eax, pd(,%ecx,8)
    movl $0, pd+4(,%ecx,8)
    incl %ecx
    cmpl $512, %ecx
    jne 1b

    movl %cr4, %eax
    orl $0x20, %eax                 # PAE
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx          # EFER.LME
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           # PG
    movl %eax, %cr0
    ljmp $SEL_CODE64, $lm_entry

    .code64
lm_entry:
    movl $stack64_top, %esp
    lidt idt64_desc(%rip)
    call idt64_init
    PRINT64 "long mode reached, efer "
    movl $0xc0000080, %ecx
    rdmsr
    andl $0xd01, %eax               # SCE LME LMA NXE
    movl $8, %ecx
    call puthex64_n
    PRINT64 " cr0 "
    movq %cr0, %rax
    andl $0x80000001, %eax
    movl $8, %ecx
    call puthex64_n
    PRINT64 " cr4.pae "
    movq %cr4, %rax
    shrl $5, %eax
    andl $1, %eax
    movl $1, %ecx
    call puthex64_n
    call newline64

    OP64 add, "addq %rbx, %rax", 0x7fffffffffffffff, 1, 0x2, F_ALL
    OP64 add128, "addq %rbx, %rax; adcq $0, %rdx", 0xffffffffffffffff, 1, 0x2, F_ALL
    OP64 sub, "subq %rbx, %rax", 0, 1, 0x2, F_ALL
    OP64 neg, "negq %rax", 0x8000000000000000, 0, 0x2, F_ALL
    OP64 imul, "imulq %rbx, %rax", 0x0123456789abcdef, 0xfedcba987, 0x2, F_CFOF
    OP64 mul, "mulq %rbx", 0x123456789abcdef0, 0xfedcba9876543210, 0x2, F_CFOF
    OP64 div, "movq $0x1234, %rdx; divq %rbx", 0x123456789abcdef0, 0xfedcba9876543210, 0x2, F_NONE
    OP64 idiv, "cqto; idivq %rbx", -1000000000000, 7, 0x2, F_NONE
    OP64 shl, "shlq %cl, %rax", 0x8765432112345678, 36, 0x2, F_SHIFTN
    OP64 sar, "sarq %cl, %rax", 0x8000000000000000, 63, 0x2, F_SHIFTN
    OP64 rol, "rolq %cl, %rax", 0x8000000000000001, 8, 0x2, F_CF
    OP64 bsr, "bsrq %rbx, %rax", 0, 0x0000010000000000, 0x2, F_ZF
    OP64 bswap, "bswapq %rax", 0x0123456789abcdef, 0, 0x2, F_NONE
    OP64 movsxd, "movslq %ebx, %rax", 0, 0x80000000, 0x2, F_NONE
    OP64 cltq, "cltq", 0x80000000, 0, 0x2, F_NONE
    OP64 zext32, "movl %ebx, %eax", 0xffffffffffffffff, 5, 0x2, F_NONE
    OP64 r8r15, "movq %rbx, %r8; addq %r8, %r8; movq %r8, %r15; movq %r15, %rax", 0, 0x4000000000000000, 0x2, F_ALL
    OP64 lea, "leaq 0x10(%rax,%rbx,8), %rax", 0x100000000, 2, 0x2, F_NONE
    OP64 riprel, "leaq lm_entry(%rip), %rax; movl $lm_entry, %edx; subq %rdx, %rax; xorl %edx, %edx", 0, 0, 0x2, F_NONE
    OP64 cmpxchg, "movq $7, %rcx; cmpxchgq %rcx, %rbx; movq %rbx, %rdx", 4, 4, 0x2, F_ALL
    OP64 pushpop, "pushq $-2; popq %rax", 0, 0, 0x2, F_NONE
    OP64 inc8, "incb %al; movb $0x7f, %r9b; incb %r9b; movzbl %r9b, %edx", 0x00000000000000ff, 0, 0x3, F_ALL

    # compatibility mode: 32-bit code under the 64-bit GDT/IDT
    ljmpl *compat_ptr(%rip)
lm_back:
    PRINT64 "back in 64-bit mode, compat result "
    movl compat_result(%rip), %eax
    movl $8, %ecx
    call puthex64_n
    call newline64

    # #UD in 64-bit mode, handler returns with IRETQ past the UD2
    movl $6, %eax
    movl $ud_handler64, %edx
    call set_gate64
    movl $0, ud_count(%rip)
    ud2
    PRINT64 "lm64 #UD handled, count "
    movl ud_count(%rip), %eax
    movl $2, %ecx
    call puthex64_n
    call newline64

    PRINT64 "modes done\n"
    movb $EXIT_PASS, %al
    outb %al, $DEBUG_EXIT
1:  hlt
    jmp 1b

ud_handler64:
    incl ud_count(%rip)
    addq $2, (%rsp)
    iretq

    .code32
compat_entry:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    PRINT "compat mode: inc (0x40) "
    movl $0x7fffffff, %eax
    pushl $0x2
    popfl
    .byte 0x40                      # incl %eax (a REX prefix in 64-bit mode)
    pushfl
    movl %eax, compat_result
    call puthex32
    PRINT " fl "
    popl %eax
    andl $F_ALL, %eax
    call puthex16
    call newline
    ljmp $SEL_CODE64, $lm_back
    .code64

# set_gate64: EAX = vector, RDX = handler (64-bit interrupt gate)
set_gate64:
    pushq %rbx
    movl %eax, %ebx
    shll $4, %ebx
    addl $idt64, %ebx
    movw %dx, (%rbx)
    movw $SEL_CODE64, 2(%rbx)
    movw $0x8e00, 4(%rbx)
    pushq %rdx
    shrq $16, %rdx
    movw %dx, 6(%rbx)
    shrq $16, %rdx
    movl %edx, 8(%rbx)
    movl $0, 12(%rbx)
    popq %rdx
    popq %rbx
    ret

idt64_init:
    xorl %eax, %eax
1:  movl $lm_unexpected, %edx
    call set_gate64
    incl %eax
    cmpl $256, %eax
    jne 1b
    ret

lm_unexpected:
    PRINT64 "UNEXPECTED EXCEPTION OR INTERRUPT IN LONG MODE\n"
    movb $EXIT_EXC, %al
    outb %al, $DEBUG_EXIT
1:  hlt
    jmp 1b

putc64:
    pushq %rax
    pushq %rdx
    movb %al, %ah
    movw $COM1+5, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    movb %ah, %al
    movw $COM1, %dx
    outb %al, %dx
    popq %rdx
    popq %rax
    ret

puts64:
    pushq %rax
    pushq %rsi
1:  lodsb
    testb %al, %al
    jz 2f
    call putc64
    jmp 1b
2:  popq %rsi
    popq %rax
    ret

space64:
    pushq %rax
    movb $' ', %al
    call putc64
    popq %rax
    ret

newline64:
    pushq %rax
    movb $'\n', %al
    call putc64
    popq %rax
    ret

# puthex64_n: RAX = value, ECX = digits (1..16)
puthex64_n:
    pushq %rsi
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    movq %rax, %rdx
    movl %ecx, %ebx
    movl $16, %ecx
    subl %ebx, %ecx
    shll $2, %ecx
    shlq %cl, %rdx
1:  rolq $4, %rdx
    movl %edx, %eax
    andl $0xf, %eax
    leaq hexdigits(%rip), %rsi
    movb (%rsi,%rax), %al
    call putc64
    decl %ebx
    jnz 1b
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    popq %rsi
    ret

puthex64:
    pushq %rcx
    movl $16, %ecx
    call puthex64_n
    popq %rcx
    ret
    .code32

    .section .rodata
str_src: .ascii "kemu"

    .data
    .align 8
compat_ptr:
    .long compat_entry
    .word SEL_CODE32
    .align 4
    .word 0
idt64_desc:
    .word 256*16 - 1
    .long idt64, 0
saved_esp:      .long 0
rm_result:      .word 0
    .align 4
compat_result:  .long 0
ud_count:       .long 0
str_dst:        .long 0

    .bss
    .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
idt64:  .skip 256*16
    .align 16
        .skip 8192
stack64_top:
