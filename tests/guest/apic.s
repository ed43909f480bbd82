# apic.s - kemu bare-metal test: IOAPIC + local APIC (xAPIC, MMIO).
#
# Masks the 8259 pair, enables the LAPIC (IA32_APIC_BASE, SVR), routes the
# PIT's IRQ0 through IOAPIC pin 2 (the ISA IRQ0 -> GSI 2 override the PC's
# MADT declares) to vector 0x30, then runs the LAPIC timer in one-shot and
# periodic mode and sends a self IPI through the ICR. Prints register
# values that do not depend on timing and fixed interrupt counts.
# References: Intel SDM vol. 3A ch. 10/11 (APIC), Intel 82093AA IOAPIC
# data sheet, ACPI MADT interrupt source override.
    .include "common.inc"

    .set LAPIC, 0xfee00000
    .set IOAPIC, 0xfec00000
    .set VEC_PIT, 0x30
    .set VEC_TIMER, 0x40
    .set VEC_IPI, 0x50
    .set VEC_SPURIOUS, 0xff

main:
    PRINTLN "KEMU-TEST apic"
    call pic_init                   # every 8259 line masked
    movl $VEC_PIT, %eax
    movl $pit_handler, %edx
    call set_gate
    movl $VEC_TIMER, %eax
    movl $timer_handler, %edx
    call set_gate
    movl $VEC_IPI, %eax
    movl $ipi_handler, %edx
    call set_gate
    movl $VEC_SPURIOUS, %eax
    movl $spurious_handler, %edx
    call set_gate

    # IA32_APIC_BASE: base 0xfee00000, enabled, BSP
    movl $0x1b, %ecx
    rdmsr
    orl $0x800, %eax
    wrmsr
    rdmsr
    PRINT "apic base msr "
    call puthex32
    call newline

    movl $(0x100 | VEC_SPURIOUS), LAPIC+0xf0    # SVR: software enable
    movl $0, LAPIC+0x80                         # TPR
    movl $0x10000, LAPIC+0x350                  # LINT0 masked
    movl $0x10000, LAPIC+0x360                  # LINT1 masked
    movl $0x10000, LAPIC+0x370                  # LVT error masked
    movl $0x10000, LAPIC+0x320                  # LVT timer masked
    movl $0xffffffff, LAPIC+0xe0                # DFR: flat
    movl $0x01000000, LAPIC+0xd0                # LDR: logical id 1

    PRINT "lapic id "
    movl LAPIC+0x20, %eax
    shrl $24, %eax
    call puthex8
    PRINT " version "
    movl LAPIC+0x30, %eax
    andl $0x00ff00ff, %eax          # max LVT entry and version
    call puthex32
    PRINT " svr "
    movl LAPIC+0xf0, %eax
    call puthex32
    call newline

    # IOAPIC id/version, then pin 2 -> vector 0x30, fixed, physical, edge
    PRINT "ioapic version "
    movl $1, IOAPIC
    movl IOAPIC+0x10, %eax
    andl $0x00ff00ff, %eax          # max redirection entry and version
    call puthex32
    call newline
    movl $0x15, IOAPIC              # pin 2, high dword: destination 0
    movl $0, IOAPIC+0x10
    movl $0x14, IOAPIC              # pin 2, low dword
    movl $VEC_PIT, IOAPIC+0x10
    movl $0x14, IOAPIC
    movl IOAPIC+0x10, %eax
    andl $0x0001a7ff, %eax          # drop delivery status and remote IRR
    PRINT "ioapic redir pin 2 "
    call puthex32
    call newline

    # PIT channel 0 mode 2 at ~100 Hz
    movb $0x34, %al
    outb %al, $0x43
    movb $(11932 & 0xff), %al
    outb %al, $0x40
    movb $(11932 >> 8), %al
    outb %al, $0x40
1:  call wait_irq
    cmpl $5, pit_ticks
    jb 1b
    movl $0x14, IOAPIC              # mask pin 2 again
    movl $(0x10000 | VEC_PIT), IOAPIC+0x10
    PRINT "pit irq0 via ioapic pin 2 ticks "
    movl pit_ticks, %eax
    call putdec
    PRINT " isr bit in handler "
    movl isr_seen, %eax
    call putdec
    call newline

    # LAPIC timer, one-shot, divide by 16
    movl $0x3, LAPIC+0x3e0
    movl $VEC_TIMER, LAPIC+0x320
    movl $100000, LAPIC+0x380
    call wait_irq
    PRINT "lapic timer one-shot ticks "
    movl timer_ticks, %eax
    call putdec
    PRINT " current count "
    movl LAPIC+0x390, %eax
    call puthex32
    PRINT " lvt "
    movl LAPIC+0x320, %eax
    andl $0xffffefff, %eax          # drop delivery status (bit 12)
    call puthex32
    call newline

    # LAPIC timer, periodic
    movl $0, timer_ticks
    movl $(0x20000 | VEC_TIMER), LAPIC+0x320
    movl $100000, LAPIC+0x380
1:  call wait_irq
    cmpl $5, timer_ticks
    jb 1b
    movl $(0x10000 | 0x20000 | VEC_TIMER), LAPIC+0x320
    movl $0, LAPIC+0x380
    PRINT "lapic timer periodic ticks "
    movl timer_ticks, %eax
    call putdec
    PRINT " isr bit in handler "
    movl isr_seen2, %eax
    call putdec
    call newline

    # self IPI through the ICR (shorthand self, fixed, edge)
    movl $(0x40000 | VEC_IPI), LAPIC+0x300
    call wait_irq
    PRINT "self ipi ticks "
    movl ipi_ticks, %eax
    call putdec
    PRINT " icr "
    movl LAPIC+0x300, %eax
    andl $0xfffeefff, %eax          # drop delivery status (bit 12)
    call puthex32
    call newline

    PRINTLN "apic done"
    ret

pit_handler:
    pushl %eax
    movl LAPIC+0x110, %eax          # ISR bits 32..63: vector 0x30 = bit 16
    shrl $16, %eax
    andl $1, %eax
    movl %eax, isr_seen
    incl pit_ticks
    movl $0, LAPIC+0xb0             # EOI
    popl %eax
    IRQ_RETURN

timer_handler:
    pushl %eax
    movl LAPIC+0x120, %eax
    andl $1, %eax
    movl %eax, isr_seen2
    popl %eax
    incl timer_ticks
    movl $0, LAPIC+0xb0
    IRQ_RETURN

ipi_handler:
    incl ipi_ticks
    movl $0, LAPIC+0xb0
    IRQ_RETURN

spurious_handler:
    IRQ_RETURN

    .data
pit_ticks:   .long 0
timer_ticks: .long 0
ipi_ticks:   .long 0
isr_seen:    .long 0
isr_seen2:   .long 0
