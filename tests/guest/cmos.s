# cmos.s - kemu bare-metal test: MC146818 RTC / PC CMOS contents.
#
# Initialises the RTC status registers (A = 0x26: 32.768 kHz divider, rate
# 6; B = 0x02: 24-hour, BCD, no interrupts), reads back A-D (masking the
# bits that depend on timing) and prints the CMOS bytes QEMU's PC machine
# fills deterministically for a given -m/-smp: equipment (0x14), base and
# extended memory (0x15-0x18, 0x30-0x31), memory above 16 MiB (0x34-0x35),
# above 4 GiB (0x5b-0x5d), CPU count - 1 (0x5f). The date/time is checked
# for validity (BCD digits, ranges, century 0x32 = 0x19..0x21), not printed.
# References: MC146818 data sheet; QEMU hw/i386/pc.c CMOS layout facts.
    .include "common.inc"

main:
    PRINTLN "KEMU-TEST cmos"
    movb $0x0a, %al
    movb $0x26, %ah
    call cmos_write
    movb $0x0b, %al
    movb $0x02, %ah
    call cmos_write
    movb $0x0c, %al                 # reading C clears its flags
    call cmos_read

    PRINT "status a "
    movb $0x0a, %al
    call cmos_read
    andb $0x7f, %al                 # UIP depends on timing
    call puthex8
    PRINT " b "
    movb $0x0b, %al
    call cmos_read
    call puthex8
    PRINT " c "
    movb $0x0c, %al
    call cmos_read
    andb $0x80, %al                 # IRQF only (UF/AF/PF follow time)
    call puthex8
    PRINT " d "
    movb $0x0d, %al
    call cmos_read
    call puthex8
    call newline

    movl $bytes_list, %esi
1:  movb (%esi), %bl
    cmpb $0xff, %bl
    je 2f
    PRINT "cmos "
    movb %bl, %al
    call puthex8
    PRINT " = "
    movb %bl, %al
    call cmos_read
    call puthex8
    call newline
    incl %esi
    jmp 1b
2:
    # the date and time, read while no update is in progress
    movl $10000000, %ecx
3:  movb $0x0a, %al
    call cmos_read
    testb $0x80, %al
    jz 4f
    loop 3b
4:  xorl %edi, %edi                 # number of invalid fields
    movl $time_fields, %esi
5:  movb (%esi), %al
    cmpb $0xff, %al
    je 6f
    call cmos_read
    movb %al, %dl
    andb $0x0f, %dl
    cmpb $9, %dl
    jbe 7f
    incl %edi                       # low digit not BCD
7:  cmpb 1(%esi), %al
    jb 8f
    cmpb 2(%esi), %al
    jbe 9f
8:  incl %edi                       # out of range
9:  addl $3, %esi
    jmp 5b
6:  PRINT "rtc date/time "
    testl %edi, %edi
    jnz 10f
    PRINTLN "valid"
    jmp 11f
10: PRINT "INVALID fields "
    movl %edi, %eax
    call putdec
    call newline
11: PRINTLN "cmos done"
    testl %edi, %edi
    jz 12f
    EXIT EXIT_FAIL
12: ret

# cmos_read: AL = index -> AL = value
cmos_read:
    outb %al, $0x70
    inb $0x71, %al
    ret

# cmos_write: AL = index, AH = value
cmos_write:
    outb %al, $0x70
    movb %ah, %al
    outb %al, $0x71
    ret

    .section .rodata
bytes_list:
    .byte 0x14, 0x15, 0x16, 0x17, 0x18, 0x30, 0x31, 0x34, 0x35
    .byte 0x5b, 0x5c, 0x5d, 0x5f, 0xff
# index, minimum, maximum (BCD)
time_fields:
    .byte 0x00, 0x00, 0x59          # seconds
    .byte 0x02, 0x00, 0x59          # minutes
    .byte 0x04, 0x00, 0x23          # hours (24-hour mode)
    .byte 0x06, 0x01, 0x07          # day of week
    .byte 0x07, 0x01, 0x31          # day of month
    .byte 0x08, 0x01, 0x12          # month
    .byte 0x09, 0x00, 0x99          # year
    .byte 0x32, 0x19, 0x21          # century
    .byte 0xff
