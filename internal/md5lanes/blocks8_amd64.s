//go:build amd64 && !purego

// The 64 steps of MD5 (RFC 1321) on eight lanes at once, one lane per
// 32-bit element of a Y register. Written by gen_blocks8.go (go
// generate): edit that, not this file.

#include "textflag.h"

DATA md5k<>+0(SB)/4, $0xd76aa478
DATA md5k<>+4(SB)/4, $0xe8c7b756
DATA md5k<>+8(SB)/4, $0x242070db
DATA md5k<>+12(SB)/4, $0xc1bdceee
DATA md5k<>+16(SB)/4, $0xf57c0faf
DATA md5k<>+20(SB)/4, $0x4787c62a
DATA md5k<>+24(SB)/4, $0xa8304613
DATA md5k<>+28(SB)/4, $0xfd469501
DATA md5k<>+32(SB)/4, $0x698098d8
DATA md5k<>+36(SB)/4, $0x8b44f7af
DATA md5k<>+40(SB)/4, $0xffff5bb1
DATA md5k<>+44(SB)/4, $0x895cd7be
DATA md5k<>+48(SB)/4, $0x6b901122
DATA md5k<>+52(SB)/4, $0xfd987193
DATA md5k<>+56(SB)/4, $0xa679438e
DATA md5k<>+60(SB)/4, $0x49b40821
DATA md5k<>+64(SB)/4, $0xf61e2562
DATA md5k<>+68(SB)/4, $0xc040b340
DATA md5k<>+72(SB)/4, $0x265e5a51
DATA md5k<>+76(SB)/4, $0xe9b6c7aa
DATA md5k<>+80(SB)/4, $0xd62f105d
DATA md5k<>+84(SB)/4, $0x02441453
DATA md5k<>+88(SB)/4, $0xd8a1e681
DATA md5k<>+92(SB)/4, $0xe7d3fbc8
DATA md5k<>+96(SB)/4, $0x21e1cde6
DATA md5k<>+100(SB)/4, $0xc33707d6
DATA md5k<>+104(SB)/4, $0xf4d50d87
DATA md5k<>+108(SB)/4, $0x455a14ed
DATA md5k<>+112(SB)/4, $0xa9e3e905
DATA md5k<>+116(SB)/4, $0xfcefa3f8
DATA md5k<>+120(SB)/4, $0x676f02d9
DATA md5k<>+124(SB)/4, $0x8d2a4c8a
DATA md5k<>+128(SB)/4, $0xfffa3942
DATA md5k<>+132(SB)/4, $0x8771f681
DATA md5k<>+136(SB)/4, $0x6d9d6122
DATA md5k<>+140(SB)/4, $0xfde5380c
DATA md5k<>+144(SB)/4, $0xa4beea44
DATA md5k<>+148(SB)/4, $0x4bdecfa9
DATA md5k<>+152(SB)/4, $0xf6bb4b60
DATA md5k<>+156(SB)/4, $0xbebfbc70
DATA md5k<>+160(SB)/4, $0x289b7ec6
DATA md5k<>+164(SB)/4, $0xeaa127fa
DATA md5k<>+168(SB)/4, $0xd4ef3085
DATA md5k<>+172(SB)/4, $0x04881d05
DATA md5k<>+176(SB)/4, $0xd9d4d039
DATA md5k<>+180(SB)/4, $0xe6db99e5
DATA md5k<>+184(SB)/4, $0x1fa27cf8
DATA md5k<>+188(SB)/4, $0xc4ac5665
DATA md5k<>+192(SB)/4, $0xf4292244
DATA md5k<>+196(SB)/4, $0x432aff97
DATA md5k<>+200(SB)/4, $0xab9423a7
DATA md5k<>+204(SB)/4, $0xfc93a039
DATA md5k<>+208(SB)/4, $0x655b59c3
DATA md5k<>+212(SB)/4, $0x8f0ccc92
DATA md5k<>+216(SB)/4, $0xffeff47d
DATA md5k<>+220(SB)/4, $0x85845dd1
DATA md5k<>+224(SB)/4, $0x6fa87e4f
DATA md5k<>+228(SB)/4, $0xfe2ce6e0
DATA md5k<>+232(SB)/4, $0xa3014314
DATA md5k<>+236(SB)/4, $0x4e0811a1
DATA md5k<>+240(SB)/4, $0xf7537e82
DATA md5k<>+244(SB)/4, $0xbd3af235
DATA md5k<>+248(SB)/4, $0x2ad7d2bb
DATA md5k<>+252(SB)/4, $0xeb86d391
GLOBL md5k<>(SB), RODATA|NOPTR, $256

// STEP is one step on eight lanes: a = b + ((a + f(b, c, d) + m + k) <<< s),
// f being the truth table of VPTERNLOGD with b as its first operand:
// 0xCA is (b & c) | (^b & d), 0xE4 (b & d) | (c & ^d), 0x96 b ^ c ^ d and
// 0x39 c ^ (b | ^d). Y16 is scratch.
#define STEP(a, b, c, d, f, m, k, s) \
	VMOVDQA64 b, Y16; \
	VPTERNLOGD f, d, c, Y16; \
	VPADDD m, a, a; \
	VPADDD.BCST md5k<>+k(SB), a, a; \
	VPADDD Y16, a, a; \
	VPROLD s, a, a; \
	VPADDD b, a, a

// TRANSPOSE8 turns r0..r7, eight words of one lane each, into w0..w7, one
// word of the eight lanes each (w0 holds word 0 of lanes 0 to 7), through
// t0..t7; the r registers are overwritten.
#define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7, t0, t1, t2, t3, t4, t5, t6, t7, w0, w1, w2, w3, w4, w5, w6, w7) \
	VPUNPCKLDQ r1, r0, t0; \
	VPUNPCKHDQ r1, r0, t1; \
	VPUNPCKLDQ r3, r2, t2; \
	VPUNPCKHDQ r3, r2, t3; \
	VPUNPCKLDQ r5, r4, t4; \
	VPUNPCKHDQ r5, r4, t5; \
	VPUNPCKLDQ r7, r6, t6; \
	VPUNPCKHDQ r7, r6, t7; \
	VPUNPCKLQDQ t2, t0, r0; \
	VPUNPCKHQDQ t2, t0, r1; \
	VPUNPCKLQDQ t3, t1, r2; \
	VPUNPCKHQDQ t3, t1, r3; \
	VPUNPCKLQDQ t6, t4, r4; \
	VPUNPCKHQDQ t6, t4, r5; \
	VPUNPCKLQDQ t7, t5, r6; \
	VPUNPCKHQDQ t7, t5, r7; \
	VSHUFI64X2 $0x00, r4, r0, w0; \
	VSHUFI64X2 $0x03, r4, r0, w4; \
	VSHUFI64X2 $0x00, r5, r1, w1; \
	VSHUFI64X2 $0x03, r5, r1, w5; \
	VSHUFI64X2 $0x00, r6, r2, w2; \
	VSHUFI64X2 $0x03, r6, r2, w6; \
	VSHUFI64X2 $0x00, r7, r3, w3; \
	VSHUFI64X2 $0x03, r7, r3, w7

#define LOADHALF(off) \
	VMOVDQU32 off(R8), Y16; \
	VMOVDQU32 off(R9), Y17; \
	VMOVDQU32 off(R10), Y18; \
	VMOVDQU32 off(R11), Y19; \
	VMOVDQU32 off(R12), Y20; \
	VMOVDQU32 off(R13), Y21; \
	VMOVDQU32 off(R14), Y22; \
	VMOVDQU32 off(R15), Y23

// func blocks8(state *[4][8]uint32, lanes *[8]*byte, n int)
//
// state holds a, b, c and d of the eight lanes; each lane reads n blocks
// of 64 bytes from its pointer on.
TEXT ·blocks8(SB), NOSPLIT, $0-24
	MOVQ state+0(FP), DI
	MOVQ lanes+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	MOVQ 48(SI), R14
	MOVQ 56(SI), R15
	VMOVDQU 0(DI), Y0
	VMOVDQU 32(DI), Y1
	VMOVDQU 64(DI), Y2
	VMOVDQU 96(DI), Y3
	TESTQ CX, CX
	JZ done

loop:
	// M0..M7 in Y8..Y15, M8..M15 in Y24..Y31.
	LOADHALF(0)
	TRANSPOSE8(Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)
	LOADHALF(32)
	TRANSPOSE8(Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y4, Y5, Y6, Y7, Y24, Y25, Y26, Y27, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31)
	VMOVDQA64 Y0, Y4
	VMOVDQA64 Y1, Y5
	VMOVDQA64 Y2, Y6
	VMOVDQA64 Y3, Y7

	STEP(Y0, Y1, Y2, Y3, $0xCA, Y8, 0, $7)
	STEP(Y3, Y0, Y1, Y2, $0xCA, Y9, 4, $12)
	STEP(Y2, Y3, Y0, Y1, $0xCA, Y10, 8, $17)
	STEP(Y1, Y2, Y3, Y0, $0xCA, Y11, 12, $22)
	STEP(Y0, Y1, Y2, Y3, $0xCA, Y12, 16, $7)
	STEP(Y3, Y0, Y1, Y2, $0xCA, Y13, 20, $12)
	STEP(Y2, Y3, Y0, Y1, $0xCA, Y14, 24, $17)
	STEP(Y1, Y2, Y3, Y0, $0xCA, Y15, 28, $22)
	STEP(Y0, Y1, Y2, Y3, $0xCA, Y24, 32, $7)
	STEP(Y3, Y0, Y1, Y2, $0xCA, Y25, 36, $12)
	STEP(Y2, Y3, Y0, Y1, $0xCA, Y26, 40, $17)
	STEP(Y1, Y2, Y3, Y0, $0xCA, Y27, 44, $22)
	STEP(Y0, Y1, Y2, Y3, $0xCA, Y28, 48, $7)
	STEP(Y3, Y0, Y1, Y2, $0xCA, Y29, 52, $12)
	STEP(Y2, Y3, Y0, Y1, $0xCA, Y30, 56, $17)
	STEP(Y1, Y2, Y3, Y0, $0xCA, Y31, 60, $22)
	STEP(Y0, Y1, Y2, Y3, $0xE4, Y9, 64, $5)
	STEP(Y3, Y0, Y1, Y2, $0xE4, Y14, 68, $9)
	STEP(Y2, Y3, Y0, Y1, $0xE4, Y27, 72, $14)
	STEP(Y1, Y2, Y3, Y0, $0xE4, Y8, 76, $20)
	STEP(Y0, Y1, Y2, Y3, $0xE4, Y13, 80, $5)
	STEP(Y3, Y0, Y1, Y2, $0xE4, Y26, 84, $9)
	STEP(Y2, Y3, Y0, Y1, $0xE4, Y31, 88, $14)
	STEP(Y1, Y2, Y3, Y0, $0xE4, Y12, 92, $20)
	STEP(Y0, Y1, Y2, Y3, $0xE4, Y25, 96, $5)
	STEP(Y3, Y0, Y1, Y2, $0xE4, Y30, 100, $9)
	STEP(Y2, Y3, Y0, Y1, $0xE4, Y11, 104, $14)
	STEP(Y1, Y2, Y3, Y0, $0xE4, Y24, 108, $20)
	STEP(Y0, Y1, Y2, Y3, $0xE4, Y29, 112, $5)
	STEP(Y3, Y0, Y1, Y2, $0xE4, Y10, 116, $9)
	STEP(Y2, Y3, Y0, Y1, $0xE4, Y15, 120, $14)
	STEP(Y1, Y2, Y3, Y0, $0xE4, Y28, 124, $20)
	STEP(Y0, Y1, Y2, Y3, $0x96, Y13, 128, $4)
	STEP(Y3, Y0, Y1, Y2, $0x96, Y24, 132, $11)
	STEP(Y2, Y3, Y0, Y1, $0x96, Y27, 136, $16)
	STEP(Y1, Y2, Y3, Y0, $0x96, Y30, 140, $23)
	STEP(Y0, Y1, Y2, Y3, $0x96, Y9, 144, $4)
	STEP(Y3, Y0, Y1, Y2, $0x96, Y12, 148, $11)
	STEP(Y2, Y3, Y0, Y1, $0x96, Y15, 152, $16)
	STEP(Y1, Y2, Y3, Y0, $0x96, Y26, 156, $23)
	STEP(Y0, Y1, Y2, Y3, $0x96, Y29, 160, $4)
	STEP(Y3, Y0, Y1, Y2, $0x96, Y8, 164, $11)
	STEP(Y2, Y3, Y0, Y1, $0x96, Y11, 168, $16)
	STEP(Y1, Y2, Y3, Y0, $0x96, Y14, 172, $23)
	STEP(Y0, Y1, Y2, Y3, $0x96, Y25, 176, $4)
	STEP(Y3, Y0, Y1, Y2, $0x96, Y28, 180, $11)
	STEP(Y2, Y3, Y0, Y1, $0x96, Y31, 184, $16)
	STEP(Y1, Y2, Y3, Y0, $0x96, Y10, 188, $23)
	STEP(Y0, Y1, Y2, Y3, $0x39, Y8, 192, $6)
	STEP(Y3, Y0, Y1, Y2, $0x39, Y15, 196, $10)
	STEP(Y2, Y3, Y0, Y1, $0x39, Y30, 200, $15)
	STEP(Y1, Y2, Y3, Y0, $0x39, Y13, 204, $21)
	STEP(Y0, Y1, Y2, Y3, $0x39, Y28, 208, $6)
	STEP(Y3, Y0, Y1, Y2, $0x39, Y11, 212, $10)
	STEP(Y2, Y3, Y0, Y1, $0x39, Y26, 216, $15)
	STEP(Y1, Y2, Y3, Y0, $0x39, Y9, 220, $21)
	STEP(Y0, Y1, Y2, Y3, $0x39, Y24, 224, $6)
	STEP(Y3, Y0, Y1, Y2, $0x39, Y31, 228, $10)
	STEP(Y2, Y3, Y0, Y1, $0x39, Y14, 232, $15)
	STEP(Y1, Y2, Y3, Y0, $0x39, Y29, 236, $21)
	STEP(Y0, Y1, Y2, Y3, $0x39, Y12, 240, $6)
	STEP(Y3, Y0, Y1, Y2, $0x39, Y27, 244, $10)
	STEP(Y2, Y3, Y0, Y1, $0x39, Y10, 248, $15)
	STEP(Y1, Y2, Y3, Y0, $0x39, Y25, 252, $21)
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	VPADDD Y6, Y2, Y2
	VPADDD Y7, Y3, Y3
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, R14
	ADDQ $64, R15
	DECQ CX
	JNZ loop

done:
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VZEROUPPER
	RET
