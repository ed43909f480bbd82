# pic-pit.s - kemu bare-metal test: 8259A PIC pair + 8254 PIT (+ RTC IRQ8).
#
# Programs both PICs (ICW1-4, vectors 0x20/0x28), PIT channel 0 in mode 2
# (rate generator, ~100 Hz) and takes 10 IRQ0 interrupts, reading the ISR
# inside the first handler (OCW3); then a PIT mode 0 one-shot, the RTC
# periodic interrupt through the slave PIC (IRQ8, cascade on IRQ2), and the
# PIT channel 2 gate/output through port 0x61. Only fixed counts and
# register values are printed. References: Intel 8259A and 8254 data
# sheets; MC146818 data sheet for the RTC registers.
    .include "common.inc"

    .set PIT_DIVISOR, 11932         # 1193182 Hz / 11932 = ~100 Hz
    .set TICKS, 10
    .set RTC_TICKS, 4

main:
    PRINTLN "KEMU-TEST pic-pit"
    call pic_init
    movl $0x20, %eax
    movl $irq0_handler, %edx
    call set_gate
    movl $0x28, %eax
    movl $irq8_handler, %edx
    call set_gate
    movl $0x27, %eax
    movl $spurious_handler, %edx
    call set_gate
    movl $0x2f, %eax
    call set_gate

    PRINT "pic imr master "
    inb $0x21, %al
    call puthex8
    PRINT " slave "
    inb $0xa1, %al
    call puthex8
    call newline

    # PIT channel 0: lobyte/hibyte, mode 2, binary
    movb $0x34, %al
    outb %al, $0x43
    movb $(PIT_DIVISOR & 0xff), %al
    outb %al, $0x40
    movb $(PIT_DIVISOR >> 8), %al
    outb %al, $0x40
    # read-back command: latch status of channel 0 (not the count)
    movb $0xe2, %al
    outb %al, $0x43
    inb $0x40, %al
    andb $0x3f, %al                 # drop OUT and NULL COUNT (timing)
    PRINT "pit ch0 status "
    call puthex8
    call newline

    movb $0xfe, %al                 # unmask IRQ0
    outb %al, $0x21
1:  call wait_irq
    cmpl $TICKS, ticks
    jb 1b
    movb $0xff, %al
    outb %al, $0x21
    PRINT "pit irq0 mode2 ticks "
    movl ticks, %eax
    call putdec
    call newline
    PRINT "pic isr inside irq0 handler "
    movb isr_in_handler, %al
    call puthex8
    call newline
    PRINT "pic isr after eoi "
    movb $0x0b, %al
    outb %al, $0x20
    inb $0x20, %al
    call puthex8
    movb $0x0a, %al
    outb %al, $0x20
    call newline

    # PIT channel 0 mode 0: one interrupt at terminal count
    movl $0, ticks
    movb $0x30, %al
    outb %al, $0x43
    movb $(1193 & 0xff), %al
    outb %al, $0x40
    movb $(1193 >> 8), %al
    outb %al, $0x40
    movb $0xfe, %al
    outb %al, $0x21
    call wait_irq
    movb $0xff, %al
    outb %al, $0x21
    PRINT "pit irq0 mode0 one-shot ticks "
    movl ticks, %eax
    call putdec
    call newline

    # RTC periodic interrupt (1024 Hz) on IRQ8 through the slave PIC
    movb $0x0a, %al
    outb %al, $0x70
    movb $0x26, %al
    outb %al, $0x71
    movb $0x0c, %al                 # clear pending flags
    outb %al, $0x70
    inb $0x71, %al
    movb $0x0b, %al
    outb %al, $0x70
    movb $0x42, %al                 # PIE, 24-hour, BCD
    outb %al, $0x71
    movb $0xfb, %al                 # master: unmask IRQ2 (cascade)
    outb %al, $0x21
    movb $0xfe, %al                 # slave: unmask IRQ8
    outb %al, $0xa1
1:  call wait_irq
    cmpl $RTC_TICKS, rtc_ticks
    jb 1b
    movb $0xff, %al
    outb %al, $0x21
    outb %al, $0xa1
    movb $0x0b, %al
    outb %al, $0x70
    movb $0x02, %al                 # PIE off
    outb %al, $0x71
    movb $0x0c, %al
    outb %al, $0x70
    inb $0x71, %al
    PRINT "rtc irq8 via slave pic ticks "
    movl rtc_ticks, %eax
    call putdec
    PRINT " regc "
    movb rtc_regc, %al
    call puthex8
    call newline

    # PIT channel 2 through port 0x61: gate on, mode 0, poll OUT2
    inb $0x61, %al
    andb $0xfc, %al
    orb $0x01, %al                  # gate 2 on, speaker off
    outb %al, $0x61
    movb $0xb0, %al                 # channel 2, lobyte/hibyte, mode 0
    outb %al, $0x43
    movb $0xff, %al                 # count 0xffff (~55 ms)
    outb %al, $0x42
    outb %al, $0x42
    inb $0x61, %al
    shrb $5, %al
    andb $1, %al
    PRINT "pit ch2 out2 after load "
    call puthex8
    movl $400000000, %ecx
2:  inb $0x61, %al
    testb $0x20, %al
    jnz 3f
    decl %ecx
    jnz 2b
    PRINTLN " timeout"
    EXIT EXIT_FAIL
3:  PRINTLN " at terminal count 01"
    inb $0x61, %al
    andb $0xfc, %al
    outb %al, $0x61

    PRINTLN "pic-pit done"
    ret

irq0_handler:
    pushl %eax
    cmpl $0, ticks
    jne 1f
    movb $0x0b, %al                 # OCW3: read ISR
    outb %al, $0x20
    inb $0x20, %al
    movb %al, isr_in_handler
    movb $0x0a, %al                 # OCW3: back to IRR
    outb %al, $0x20
1:  incl ticks
    movb $0x20, %al                 # non-specific EOI
    outb %al, $0x20
    popl %eax
    IRQ_RETURN

irq8_handler:
    pushl %eax
    movb $0x0c, %al                 # read C: acknowledges the RTC
    outb %al, $0x70
    inb $0x71, %al
    andb $0xc0, %al                 # IRQF, PF (UF depends on timing)
    cmpl $0, rtc_ticks
    jne 1f
    movb %al, rtc_regc
1:  incl rtc_ticks
    movb $0x20, %al
    outb %al, $0xa0
    outb %al, $0x20
    popl %eax
    IRQ_RETURN

spurious_handler:
    IRQ_RETURN

    .data
ticks:      .long 0
rtc_ticks:  .long 0
isr_in_handler: .byte 0
rtc_regc:   .byte 0
