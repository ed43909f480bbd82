# fwcfg.s - kemu bare-metal test: QEMU fw_cfg interface (x86 I/O ports).
#
# Port interface: selector 0x510 (16-bit write), data 0x511 (8-bit reads).
# Reads the signature (key 0x0000, "QEMU"), the feature ID (0x0001), RAM
# size (0x0003), CPU counts (0x0005, 0x000f), an unknown key (reads 0),
# and the file directory (0x0019: big-endian count, then 64-byte entries
# {be32 size, be16 select, u16 reserved, char name[56]}). Only files both
# QEMU and kemu provide are looked for (etc/e820 and bootorder); the e820
# table (20-byte little-endian {u64 addr, u64 len, u32 type}) is printed.
# DMA interface: the big-endian FWCfgDmaAccess {be32 control, be32 length,
# be64 address} address is written to 0x514 (high) / 0x518 (low); control
# bits: 0x01 error, 0x02 read, 0x04 skip, 0x08 select (key << 16).
# Reference: QEMU docs/specs/fw_cfg.txt.
    .include "common.inc"

    .set FW_SEL, 0x510
    .set FW_DATA, 0x511
    .set FW_DMA_HI, 0x514
    .set FW_DMA_LO, 0x518

main:
    PRINTLN "KEMU-TEST fwcfg"
    # signature through the data port
    movw $0x0000, %ax
    call fw_select
    movl $buf, %edi
    movl $4, %ecx
    call fw_read
    movb $0, buf+4
    PRINT "signature "
    movl $buf, %esi
    call puts
    call newline

    movw $0x0001, %ax
    call fw_select
    call fw_read32
    movl %eax, fw_id
    PRINT "id "
    call puthex32
    call newline

    movw $0x0003, %ax
    call fw_select
    call fw_read32
    movl %eax, %ebx
    call fw_read32
    PRINT "ram size "
    call puthex32
    movl %ebx, %eax
    call puthex32
    call newline

    movw $0x0005, %ax
    call fw_select
    call fw_read16
    PRINT "nb cpus "
    call puthex16
    movw $0x000f, %ax
    call fw_select
    call fw_read16
    PRINT " max cpus "
    call puthex16
    call newline

    movw $0x3fff, %ax               # no such key: reads return 0
    call fw_select
    call fw_read32
    PRINT "unknown key reads "
    call puthex32
    call newline

    # file directory
    movw $0x0019, %ax
    call fw_select
    call fw_read32
    bswapl %eax
    movl %eax, %ebp                 # number of files
    cmpl $2, %ebp
    jae 1f
    PRINTLN "file directory has fewer than 2 entries"
    EXIT EXIT_FAIL
1:  movl $dirent, %edi
    movl $64, %ecx
    call fw_read
    movl $dirent+8, %esi
    movl $name_e820, %edi
    call strcmp
    jne 2f
    movl dirent, %eax
    bswapl %eax
    movl %eax, e820_size
    movw dirent+4, %ax
    xchgb %al, %ah
    movw %ax, e820_key
2:  movl $dirent+8, %esi
    movl $name_bootorder, %edi
    call strcmp
    jne 3f
    movl $1, have_bootorder
3:  decl %ebp
    jnz 1b

    PRINT "file bootorder "
    cmpl $0, have_bootorder
    jne 4f
    PRINTLN "missing"
    jmp 5f
4:  PRINTLN "present"
5:  PRINT "file etc/e820 "
    cmpw $0, e820_key
    jne 6f
    PRINTLN "missing"
    EXIT EXIT_FAIL
6:  PRINT "size "
    movl e820_size, %eax
    call putdec
    call newline
    cmpl $200, e820_size
    jbe 7f
    PRINTLN "e820 table too large"
    EXIT EXIT_FAIL
7:  movw e820_key, %ax
    call fw_select
    movl $e820_pio, %edi
    movl e820_size, %ecx
    call fw_read
    movl $e820_pio, %esi
    movl e820_size, %ecx
8:  cmpl $20, %ecx
    jb 9f
    PRINT "e820 addr "
    movl 4(%esi), %eax
    call puthex32
    movl (%esi), %eax
    call puthex32
    PRINT " len "
    movl 12(%esi), %eax
    call puthex32
    movl 8(%esi), %eax
    call puthex32
    PRINT " type "
    movl 16(%esi), %eax
    call putdec
    call newline
    addl $20, %esi
    subl $20, %ecx
    jmp 8b
9:
    # DMA interface
    testl $2, fw_id
    jnz 10f
    PRINTLN "dma not advertised"
    EXIT EXIT_FAIL
10: movl $buf, %edi                 # signature through DMA
    movl $8, %ecx
    xorl %eax, %eax
    rep stosb
    movl $((0x0000 << 16) | 0x0a), %eax
    movl $buf, %ebx
    movl $4, %ecx
    call fw_dma
    PRINT "dma signature "
    movl $buf, %esi
    call puts
    PRINT " control "
    movl dma_result, %eax
    call puthex32
    call newline

    movzwl e820_key, %eax           # whole e820 file through DMA
    shll $16, %eax
    orl $0x0a, %eax
    movl $e820_dma, %ebx
    movl e820_size, %ecx
    call fw_dma
    movl $e820_pio, %esi
    movl $e820_dma, %edi
    movl e820_size, %ecx
    repe cmpsb
    PRINT "dma etc/e820 "
    jne 11f
    PRINTLN "matches port read"
    jmp 12f
11: PRINTLN "DIFFERS from port read"
    EXIT EXIT_FAIL
12: movzwl e820_key, %eax           # select + skip 8, then read 8: entry 0 len
    shll $16, %eax
    orl $0x0c, %eax
    movl $0, %ebx
    movl $8, %ecx
    call fw_dma
    movl $0x02, %eax
    movl $buf, %ebx
    movl $8, %ecx
    call fw_dma
    PRINT "dma skip+read e820[0].len "
    movl buf+4, %eax
    call puthex32
    movl buf, %eax
    call puthex32
    call newline

    PRINTLN "fwcfg done"
    ret

# fw_select: AX = key
fw_select:
    pushl %edx
    movw $FW_SEL, %dx
    outw %ax, %dx
    popl %edx
    ret

# fw_read: EDI = buffer, ECX = count (byte reads from the data port)
fw_read:
    pushal
    movw $FW_DATA, %dx
    jecxz 2f
1:  inb %dx, %al
    stosb
    loop 1b
2:  popal
    ret

fw_read32:
    pushl %edi
    pushl %ecx
    movl $tmp, %edi
    movl $4, %ecx
    call fw_read
    movl tmp, %eax
    popl %ecx
    popl %edi
    ret

fw_read16:
    pushl %edi
    pushl %ecx
    movl $0, tmp
    movl $tmp, %edi
    movl $2, %ecx
    call fw_read
    movl tmp, %eax
    popl %ecx
    popl %edi
    ret

# fw_dma: EAX = control, EBX = address, ECX = length. Waits until the
# device clears the control word; leaves it (CPU order) in dma_result.
fw_dma:
    pushal
    bswapl %eax
    movl %eax, dma_access
    bswapl %ecx
    movl %ecx, dma_access+4
    movl $0, dma_access+8           # address high
    bswapl %ebx
    movl %ebx, dma_access+12
    movw $FW_DMA_HI, %dx
    xorl %eax, %eax
    outl %eax, %dx
    movl $dma_access, %eax
    bswapl %eax
    movw $FW_DMA_LO, %dx
    outl %eax, %dx
    movl $100000000, %ecx
1:  movl dma_access, %eax
    bswapl %eax
    testl $0xfffffffe, %eax
    jz 2f
    loop 1b
2:  movl %eax, dma_result
    popal
    ret

# strcmp: ESI, EDI NUL-terminated; ZF=1 when equal
strcmp:
    pushl %esi
    pushl %edi
    pushl %eax
1:  movb (%esi), %al
    cmpb (%edi), %al
    jne 2f
    incl %esi
    incl %edi
    testb %al, %al
    jnz 1b
2:  popl %eax
    popl %edi
    popl %esi
    ret

    .section .rodata
name_e820:      .asciz "etc/e820"
name_bootorder: .asciz "bootorder"

    .data
    .align 16
dma_access:     .long 0, 0, 0, 0
dma_result:     .long 0
fw_id:          .long 0
tmp:            .long 0
e820_size:      .long 0
have_bootorder: .long 0
e820_key:       .word 0

    .bss
    .align 16
buf:      .skip 64
dirent:   .skip 64
e820_pio: .skip 256
e820_dma: .skip 256
