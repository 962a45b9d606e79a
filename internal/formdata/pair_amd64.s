//go:build amd64 && !purego

#include "textflag.h"

// func indexPairAVX2(b []byte, c0, c1 byte) int
//
// The index of the first c0 followed by c1 in b, or -1: 32 positions per
// step, each compared at once with c0 and, one byte on, with c1.
TEXT ·indexPairAVX2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVBLZX c0+24(FP), AX
	MOVBLZX c1+25(FP), DX
	MOVD AX, X0
	VPBROADCASTB X0, Y0
	MOVD DX, X1
	VPBROADCASTB X1, Y1
	MOVQ SI, DI
	// R8 is the last DI whose two loads (32 bytes at DI and at DI+1) are
	// inside b; the positions after it are looked at one by one.
	LEAQ -33(SI)(BX*1), R8
	CMPQ BX, $33
	JB tail

loop:
	VMOVDQU (DI), Y2
	VMOVDQU 1(DI), Y3
	VPCMPEQB Y0, Y2, Y2
	VPCMPEQB Y1, Y3, Y3
	VPAND Y2, Y3, Y2
	VPMOVMSKB Y2, CX
	TESTL CX, CX
	JNZ found
	ADDQ $32, DI
	CMPQ DI, R8
	JBE loop

tail:
	// Positions up to len(b)-2: a pair needs the byte after.
	LEAQ -1(SI)(BX*1), R8

tailloop:
	CMPQ DI, R8
	JGE notfound
	CMPB (DI), AL
	JNE next
	CMPB 1(DI), DL
	JEQ at

next:
	INCQ DI
	JMP tailloop

found:
	BSFL CX, CX
	ADDQ CX, DI

at:
	SUBQ SI, DI
	MOVQ DI, ret+32(FP)
	VZEROUPPER
	RET

notfound:
	MOVQ $-1, ret+32(FP)
	VZEROUPPER
	RET
