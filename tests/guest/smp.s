# smp.s - kemu bare-metal test: application processor start-up (-smp 2).
#
# The BSP copies a real-mode trampoline to 0x8000 and sends INIT, then
# STARTUP (vector 0x08) IPIs to APIC ID 1 through the local APIC ICR, as
# in Intel SDM vol. 3A 9.4 ("MP initialization"), with PIT channel 2
# delays. A second SIPI is sent only if the AP has not checked in after
# the first. The AP goes real -> protected mode with the BSP's GDT, prints
# its APIC ID, increments a counter (LOCK) and halts; the BSP waits for the
# counter and prints it. Output order is fixed: the BSP prints nothing
# while the AP runs.
    .include "common.inc"

    .set LAPIC, 0xfee00000
    .set TRAMPOLINE, 0x8000

main:
    PRINTLN "KEMU-TEST smp"
    call pic_init
    # copy the trampoline below 1 MiB
    movl $tramp_start, %esi
    movl $TRAMPOLINE, %edi
    movl $(tramp_end - tramp_start), %ecx
    rep movsb

    movl $0x1b, %ecx                # IA32_APIC_BASE: enable
    rdmsr
    orl $0x800, %eax
    wrmsr
    movl $0x1ff, LAPIC+0xf0         # SVR: software enable, spurious 0xff
    PRINT "bsp apic id "
    movl LAPIC+0x20, %eax
    shrl $24, %eax
    call puthex8
    call newline

    movl $0x01000000, LAPIC+0x310   # destination APIC ID 1
    movl $0x00004500, LAPIC+0x300   # INIT, assert, edge, physical
    call icr_wait
    movl $10, %eax
    call delay_ms
    movl $0x01000000, LAPIC+0x310
    movl $0x00004600 | (TRAMPOLINE >> 12), LAPIC+0x300   # STARTUP
    call icr_wait
    movl $1, %eax
    call delay_ms
    cmpl $0, ap_count
    jne 1f
    movl $0x01000000, LAPIC+0x310
    movl $0x00004600 | (TRAMPOLINE >> 12), LAPIC+0x300
    call icr_wait
1:  movl $2000, %ebx                # wait up to ~2 s
2:  cmpl $1, ap_count
    jae 3f
    movl $1, %eax
    call delay_ms
    decl %ebx
    jnz 2b
    PRINTLN "AP did not start"
    EXIT EXIT_FAIL
3:  PRINT "bsp sees ap count "
    movl ap_count, %eax
    call putdec
    PRINT " ap apic id "
    movl ap_apic_id, %eax
    call puthex8
    call newline
    PRINTLN "smp done"
    ret

icr_wait:
    testl $0x1000, LAPIC+0x300      # delivery status: send pending
    jnz icr_wait
    ret

# delay_ms: EAX = milliseconds, busy-waits on PIT channel 2 (mode 0)
delay_ms:
    pushal
    movl %eax, %ebx
1:  testl %ebx, %ebx
    jz 4f
    inb $0x61, %al
    andb $0xfc, %al
    orb $0x01, %al                  # gate 2 on, speaker off
    outb %al, $0x61
    movb $0xb0, %al                 # channel 2, lobyte/hibyte, mode 0
    outb %al, $0x43
    movb $(1193 & 0xff), %al
    outb %al, $0x42
    movb $(1193 >> 8), %al
    outb %al, $0x42
    movl $100000000, %ecx
2:  inb $0x61, %al
    testb $0x20, %al
    jnz 3f
    loop 2b
3:  decl %ebx
    jmp 1b
4:  popal
    ret

# AP entry, after the trampoline: 32-bit protected mode, flat segments.
ap_entry32:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $ap_stack_top, %esp
    lidt idt_desc
    movl LAPIC+0x20, %eax
    shrl $24, %eax
    movl %eax, ap_apic_id
    PRINT "ap running in protected mode, apic id "
    call puthex8
    call newline
    lock incl ap_count
1:  cli
    hlt
    jmp 1b

# Real-mode trampoline, copied to TRAMPOLINE and entered at CS:IP =
# (TRAMPOLINE >> 4):0 by the STARTUP IPI.
    .code16
tramp_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl (tramp_gdt_desc - tramp_start + TRAMPOLINE)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $ap_entry32
    .align 4
    .word 0
tramp_gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
tramp_end:
    .code32

    .data
ap_count:   .long 0
ap_apic_id: .long 0xff

    .bss
    .align 16
ap_stack:   .skip 4096
ap_stack_top:
