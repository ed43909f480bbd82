# ide-abuse.s - a guest that programs the PIIX3 IDE controller wrongly
# (run by test_ide.py; assembled with tests/guest/common.inc and link.ld).
# Multiboot payload, -m 16, a disk on ide.0 and a CD on ide.1. It sends a
# command to an absent unit, points DMA at MMIO, unassigned space and past
# the end of RAM, puts the PRD table at the top of the address space, gives
# a table without an end, asks for 32 MiB past the end of the disk, sends
# commands while DRQ is up, stops the engine mid-transfer, resets the
# channel while a DMA into MMIO runs, sends an ATAPI packet with a zero
# byte count, then 40000 random register accesses.
# Every wait is bounded; the emulator must survive; exit 0x10 at the end.
    .include "common.inc"

    .set CMD0, 0x1f0
    .set CTL0, 0x3f6
    .set CMD1, 0x170
    .set BM0, 0xc000
    .set BM1, 0xc008
    .set SCRATCH, 0x800000          # 8 MiB: DMA target well away from the payload
    .set PRDTAB, 0x7f0000

main:
    PRINTLN "KEMU-TEST ide-abuse"
    # PCI 00:01.1: BAR4 = 0xc000, I/O + bus master
    movl $0x80000920, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movl $0xc001, %eax
    movw $0xcfc, %dx
    outl %eax, %dx
    movl $0x80000904, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movl $0x0005, %eax
    movw $0xcfc, %dx
    outl %eax, %dx

    # 1. a command to the absent slave: nobody answers
    movb $0xb0, %al
    movw $CMD0+6, %dx
    outb %al, %dx
    movb $0xec, %al
    movw $CMD0+7, %dx
    outb %al, %dx
    PRINT "absent-slave status "
    inb %dx, %al
    call puthex8
    call newline
    movb $0xa0, %al
    movw $CMD0+6, %dx
    outb %al, %dx
    call wait_ready

    # 2. DMA into the IOAPIC (not RAM)
    movl $0xfec00000, %eax
    movl $0x80001000, %ecx
    call one_prd_read
    PRINT "dma-to-mmio "
    call report
    # 3. DMA to unassigned space
    movl $0xffff0000, %eax
    movl $0x80001000, %ecx
    call one_prd_read
    PRINT "dma-to-unassigned "
    call report
    # 4. a 64 KiB (count 0) region that runs past the end of RAM (16 MiB)
    movl $0x00fff000, %eax
    movl $0x80000000, %ecx
    movl $128, %ebx
    call one_prd_read_n
    PRINT "dma-past-ram "
    call report
    # 5. a PRD table at the top of the address space
    movl $0xfffffff8, %eax
    call bm_table
    movl $8, %ebx
    call read_dma
    PRINT "prd-table-top "
    call report
    # 6. a PRD table without an end: 1024 entries of 2 bytes
    movl $PRDTAB, %edi
    movl $1024, %ecx
1:  movl $SCRATCH, (%edi)
    movl $2, 4(%edi)
    addl $8, %edi
    loop 1b
    movl $PRDTAB, %eax
    call bm_table
    movl $8, %ebx
    call read_dma
    PRINT "prd-no-eot "
    call report
    # 7. a huge transfer past the end of the disk (READ DMA EXT, 65536 sectors)
    movl $SCRATCH, %eax
    movl $0x80000000, %ecx
    call set_prd
    movl $PRDTAB, %eax
    call bm_table
    movw $CMD0+2, %dx
    xorb %al, %al
    outb %al, %dx
    outb %al, %dx
    movw $CMD0+3, %dx
    outb %al, %dx
    outb %al, %dx
    movw $CMD0+4, %dx
    outb %al, %dx
    outb %al, %dx
    movw $CMD0+5, %dx
    outb %al, %dx
    outb %al, %dx
    movb $0x40, %al
    movw $CMD0+6, %dx
    outb %al, %dx
    movb $0x25, %al
    movw $CMD0+7, %dx
    outb %al, %dx
    movb $0x09, %al
    movw $BM0, %dx
    outb %al, %dx
    call wait_ready
    PRINT "huge-read "
    call report
    # 8. commands while DRQ is up, then a soft reset
    movl $0, %ebx
    movl $4, %ecx
    call lba28
    movb $0x20, %al
    movw $CMD0+7, %dx
    outb %al, %dx
    call wait_ready
    movb $0xec, %al
    outb %al, %dx
    movb $0xc8, %al
    outb %al, %dx
    call soft_reset
    PRINT "after-reset "
    call report
    # 9. stop the engine in the middle of a transfer, then reset
    movl $SCRATCH, %eax
    movl $0x80000000, %ecx
    call set_prd
    movl $PRDTAB, %eax
    call bm_table
    movl $128, %ebx
    call read_dma
    movb $0x00, %al
    movw $BM0, %dx
    outb %al, %dx
    call soft_reset
    PRINT "stop-mid-dma "
    call report
    # 9b. reset the channel while a DMA into MMIO is still running
    movl $0xfec00000, %eax
    movl $0x80000000, %ecx
    call set_prd
    movl $PRDTAB, %eax
    call bm_table
    movl $128, %ecx
    xorl %ebx, %ebx
    call lba28
    movb $0xc8, %al
    movw $CMD0+7, %dx
    outb %al, %dx
    movb $0x09, %al
    movw $BM0, %dx
    outb %al, %dx
    movw $CTL0, %dx
    movb $0x04, %al
    outb %al, %dx
    xorb %al, %al
    outb %al, %dx
    call wait_ready
    PRINT "reset-mid-dma "
    call report
    # 10. ATAPI: byte count 0, READ(10), then junk packets
    movb $0xa0, %al
    movw $CMD1+6, %dx
    outb %al, %dx
    xorb %al, %al
    movw $CMD1+1, %dx
    outb %al, %dx
    movw $CMD1+4, %dx
    outb %al, %dx
    movw $CMD1+5, %dx
    outb %al, %dx
    movb $0xa0, %al
    movw $CMD1+7, %dx
    outb %al, %dx
    movw $CMD1, %dx
    movw $0x0028, %ax
    outw %ax, %dx
    xorw %ax, %ax
    outw %ax, %dx
    outw %ax, %dx
    movw $0x0100, %ax
    outw %ax, %dx
    xorw %ax, %ax
    outw %ax, %dx
    outw %ax, %dx
    movl $2000, %ecx
2:  call wait_ready1
    movw $CMD1+7, %dx
    inb %dx, %al
    testb $0x08, %al
    jz 3f
    pushl %ecx
    movl $1024, %ecx
    movw $CMD1, %dx
8:  inw %dx, %ax
    loop 8b
    popl %ecx
    loop 2b
3:  PRINT "atapi-count0 status "
    movw $CMD1+7, %dx
    inb %dx, %al
    call puthex8
    call newline
    # 11. random register traffic on both channels and the BM registers
    movl $SCRATCH, %eax
    movl $0x80001000, %ecx
    call set_prd
    movl $PRDTAB, %eax
    call bm_table
    movl $0x1d10, %eax
    movw $BM1+4, %dx
    outl %eax, %dx
    movl $0x12345678, %esi
    movl $40000, %ecx
4:  imull $1103515245, %esi, %esi
    addl $12345, %esi
    movl %esi, %eax
    shrl $16, %eax
    movl %eax, %ebx
    andl $31, %ebx
    movzwl portmap(,%ebx,2), %edx
    movl %esi, %eax
    shrl $8, %eax
    testl $0x100000, %esi
    jz 5f
    outb %al, %dx
    jmp 6f
5:  testl $0x200000, %esi
    jz 7f
    inw %dx, %ax
    jmp 6f
7:  inb %dx, %al
6:  loop 4b
    call soft_reset
    movw $CTL0+0x376-CTL0, %dx
    movb $0x04, %al
    outb %al, %dx
    xorb %al, %al
    outb %al, %dx
    PRINTLN "ide-abuse survived"
    EXIT EXIT_PASS

# wait until BSY is clear and the DMA engine is idle or has interrupted
# (bounded; during DMA the drive shows DRQ, not BSY)
wait_ready:
    pushl %ecx
    pushl %edx
    movl $1000000, %ecx
1:  movw $CTL0, %dx
    inb %dx, %al
    testb $0x80, %al
    jnz 3f
    movw $BM0+2, %dx
    inb %dx, %al
    testb $0x01, %al
    jz 2f
    testb $0x04, %al
    jnz 2f
3:  loop 1b
2:  popl %edx
    popl %ecx
    ret

wait_ready1:
    pushl %ecx
    pushl %edx
    movl $3000000, %ecx
    movw $0x376, %dx
1:  inb %dx, %al
    testb $0x80, %al
    jz 2f
    loop 1b
2:  popl %edx
    popl %ecx
    ret

soft_reset:
    xorb %al, %al                   # stop both engines first
    movw $BM0, %dx
    outb %al, %dx
    movw $BM1, %dx
    outb %al, %dx
    movw $CTL0, %dx
    movb $0x04, %al
    outb %al, %dx
    xorb %al, %al
    outb %al, %dx
    call wait_ready
    ret

# eax = address, ecx = count | flags: PRDTAB[0]
set_prd:
    movl %eax, PRDTAB
    movl %ecx, PRDTAB+4
    ret

# eax = PRD table address; clear BM status
bm_table:
    movw $BM0, %dx
    pushl %eax
    xorb %al, %al
    outb %al, %dx
    popl %eax
    movw $BM0+4, %dx
    outl %eax, %dx
    movb $0x06, %al
    movw $BM0+2, %dx
    outb %al, %dx
    ret

# ebx = lba, ecx = count (LBA28)
lba28:
    movw $CMD0+2, %dx
    movb %cl, %al
    outb %al, %dx
    movw $CMD0+3, %dx
    movb %bl, %al
    outb %al, %dx
    movw $CMD0+4, %dx
    movb %bh, %al
    outb %al, %dx
    movw $CMD0+5, %dx
    movl %ebx, %eax
    shrl $16, %eax
    outb %al, %dx
    movw $CMD0+6, %dx
    movb $0xe0, %al
    outb %al, %dx
    ret

# READ DMA of ebx sectors at LBA 0, engine started after the command
read_dma:
    movl %ebx, %ecx
    xorl %ebx, %ebx
    call lba28
    movb $0xc8, %al
    movw $CMD0+7, %dx
    outb %al, %dx
    movb $0x09, %al
    movw $BM0, %dx
    outb %al, %dx
    call wait_ready
    ret

# eax = region address, ecx = count|flags: one-entry table, READ DMA of 8 (or ebx) sectors
one_prd_read:
    movl $8, %ebx
one_prd_read_n:
    call set_prd
    movl $PRDTAB, %eax
    pushl %ebx
    call bm_table
    popl %ebx
    call read_dma
    ret

# print ATA status, error and BM status, stop the engine, reset the unit
report:
    PRINT "ata "
    movw $CMD0+7, %dx
    inb %dx, %al
    call puthex8
    PRINT " err "
    movw $CMD0+1, %dx
    inb %dx, %al
    call puthex8
    PRINT " bm "
    movw $BM0+2, %dx
    inb %dx, %al
    call puthex8
    call newline
    xorb %al, %al
    movw $BM0, %dx
    outb %al, %dx
    call soft_reset
    ret

    .section .rodata
    .align 2
portmap:
    .word 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7
    .word 0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177
    .word 0x3f6, 0x376, 0xc000, 0xc002, 0xc008, 0xc00a, 0x1f7, 0x177
    .word 0x1f2, 0x172, 0x1f6, 0x176, 0x1f1, 0x171, 0x1f0, 0x170
