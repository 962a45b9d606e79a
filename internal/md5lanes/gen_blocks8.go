//go:build ignore

// gen_blocks8 writes blocks8_amd64.s: go run gen_blocks8.go. The kernel's
// 64 step lines follow RFC 1321's tables, computed here rather than
// typed: the constant of step i is floor(|sin(i+1)| * 2^32), its message
// word g(i) and its shift are the round's, and its function the round's
// as a VPTERNLOGD truth table over (b, c, d).
package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

func main() {
	var o strings.Builder
	o.WriteString(head)
	for i := range 64 {
		k := uint32(math.Abs(math.Sin(float64(i+1))) * (1 << 32))
		fmt.Fprintf(&o, "DATA md5k<>+%d(SB)/4, $0x%08x\n", 4*i, k)
	}
	o.WriteString("GLOBL md5k<>(SB), RODATA|NOPTR, $256\n")
	o.WriteString(macros)
	regs := [4]string{"Y0", "Y1", "Y2", "Y3"}
	for i := range 64 {
		a, b, c, d := regs[(64-i)%4], regs[(65-i)%4], regs[(66-i)%4], regs[(67-i)%4]
		fmt.Fprintf(&o, "\tSTEP(%s, %s, %s, %s, %s, %s, %d, $%d)\n", a, b, c, d,
			functions[i/16], message[word(i)], 4*i, shifts[i/16][i%4])
	}
	o.WriteString(tail)
	out := "blocks8_amd64.s"
	if len(os.Args) > 1 {
		out = os.Args[1] // for the test that checks the file is up to date
	}
	if err := os.WriteFile(out, []byte(o.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// functions are the rounds' F, G, H and I as truth tables over (b, c, d).
var functions = [4]string{"$0xCA", "$0xE4", "$0x96", "$0x39"}

var shifts = [4][4]int{{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}}

// message holds word w of the eight lanes in register message[w].
var message = [16]string{"Y8", "Y9", "Y10", "Y11", "Y12", "Y13", "Y14", "Y15",
	"Y24", "Y25", "Y26", "Y27", "Y28", "Y29", "Y30", "Y31"}

// word is the message word step i reads.
func word(i int) int {
	switch i / 16 {
	case 0:
		return i
	case 1:
		return (5*i + 1) % 16
	case 2:
		return (3*i + 5) % 16
	}
	return 7 * i % 16
}

const head = `//go:build amd64 && !purego

// The 64 steps of MD5 (RFC 1321) on eight lanes at once, one lane per
// 32-bit element of a Y register. Written by gen_blocks8.go (go
// generate): edit that, not this file.

#include "textflag.h"

`

const macros = `
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

`

const tail = `	VPADDD Y4, Y0, Y0
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
`
