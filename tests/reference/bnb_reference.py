#!/usr/bin/env python3
"""Independent scalar reference for bitsandbytes-compatible weight quantization.

Written rule by rule from /work/shared/reference/bitsandbytes-format.md (cited below as "the doc",
sections as §N). Nothing here is copied from bitsandbytes, torch or any other implementation; every
rule is its own small function operating on one scalar at a time, so that each IEEE binary32
rounding step the doc prescribes is visible in the code.

What it covers
  * NF4 / FP4 blockwise 4-bit quantization and dequantization (§1.1, §1.2, §2, §3),
  * double quantization of the absmax vector with the dynamic 8-bit map (§1.3, §4, Appendix A),
  * LLM.int8 row-wise weight quantization and dequantization (§7),
  * the safetensors container, written and read by hand (§9),
  * the memory-footprint formula (§6).

Arithmetic model
  All arithmetic is done on numpy.float32 *scalars* (never arrays, never a Python float mixed into
  an operation: numpy 1.x would silently promote that to float64). One numpy float32 operation is
  one IEEE binary32 operation with round-to-nearest-even, i.e. exactly the doc's fl32(a op b).
  Comparisons are done on Python floats, which is exact because every f32 is a double.
  bf16 rounding is done by hand on the f32 bit pattern; f16 rounding uses numpy.float16 (RNE); both
  are cross-checked in the self-test against an exact rational rounder.
  Flush-to-zero (§0) is *not* emulated. Instead every vector is generated so that no f32 input or
  intermediate is subnormal (a sentinel records any subnormal result and the generator refuses it),
  which makes the vectors independent of ftz.
  The GPU's approximate reciprocal (§0, §11.1) is not emulated either: random vectors are redrawn
  (next seed) until their codes are identical with the reciprocal moved by +-1 ulp, and metadata
  records that.

Usage (run from the repository root, with Debian's python3 that has numpy):
  /usr/bin/python3 tests/reference/bnb_reference.py --out tests/src/test/resources/bnb
      regenerates every vector file. Generation is deterministic: every random case starts from a
      fixed seed (recorded in its metadata as "seed"), normal deviates come from Python's
      random.Random (Mersenne Twister, stable across Python versions) through Box-Muller, and the
      files are written byte for byte the same way on every run.
  /usr/bin/python3 tests/reference/bnb_reference.py --selftest [--out DIR]
      checks the tables and closed forms against the doc, then reads every file in DIR (default:
      tests/src/test/resources/bnb next to this script's repository) back, validates the
      safetensors layout, recomputes every expected tensor from the stored input (with this scalar
      code and with a separate vectorised numpy version) and checks that regenerating the file
      now gives the same bytes.

Stdlib + numpy only.
"""

import argparse
import math
import os
import random
import struct
import sys
from fractions import Fraction

import numpy as np

import safetensors_file

# 0*inf, 1/0 and inf*0 are part of the specified semantics; silence numpy's warnings about them.
np.seterr(all="ignore")

F32 = np.float32
INF = float("inf")
CANONICAL_NAN_F32 = 0x7FC00000
CANONICAL_NAN_BF16 = 0x7FC0
MIN_NORMAL_F32 = 2.0 ** -126
MIN_NORMAL_F16 = 2.0 ** -14
MAX_F16 = 65504.0


# =================================================================================================
# Bit-level helpers for binary32
# =================================================================================================

def f32_from_bits(u):
    """The binary32 value with bit pattern u (an int)."""
    return np.array([u], dtype="<u4").view("<f4")[0]


_PACK_F = struct.Struct("<f")
_UNPACK_I = struct.Struct("<I")


def f32_bits(x):
    """Bit pattern of an f32 value as an int (struct is exact for f32 values, and fast)."""
    return _UNPACK_I.unpack(_PACK_F.pack(float(x)))[0]


def next_up(x):
    return np.nextafter(F32(x), F32(INF))


def next_down(x):
    return np.nextafter(F32(x), F32(-INF))


# -------------------------------------------------------------------------------------------------
# Subnormal sentinel.  The doc (§0, §11.6) says the GPU flushes subnormals; we do not emulate that
# but refuse to generate any vector whose arithmetic touches a subnormal, so ftz cannot matter.
# -------------------------------------------------------------------------------------------------

class SubnormalSentinel:
    def __init__(self):
        self.count = 0

    def note(self, x):
        v = abs(float(x))
        if 0.0 < v < MIN_NORMAL_F32:
            self.count += 1
        return x


SENTINEL = SubnormalSentinel()


# One-operation f32 helpers.  Each is exactly one IEEE binary32 operation (RNE).

def fl32_mul(a, b):
    return SENTINEL.note(F32(a) * F32(b))


def fl32_add(a, b):
    return SENTINEL.note(F32(a) + F32(b))


def fl32_sub(a, b):
    return SENTINEL.note(F32(a) - F32(b))


def fl32_div(a, b):
    return SENTINEL.note(F32(a) / F32(b))


def fl32_recip(a):
    """inv = fl32(1/absmax): the correctly rounded reciprocal (§0: the reference uses IEEE, not
    the GPU's rcp.approx)."""
    return fl32_div(F32(1.0), a)


def fmaxf(a, b):
    """C fmaxf: if one operand is NaN the other is returned (§2: "NaN ignored")."""
    fa, fb = float(a), float(b)
    if math.isnan(fa):
        return F32(b)
    if math.isnan(fb):
        return F32(a)
    return F32(a) if fa >= fb else F32(b)


def f32_abs(x):
    """fabsf: clears the sign bit (exact)."""
    return abs(F32(x))


# =================================================================================================
# Exact rational rounding (used for literals, the correctly rounded mean and as an independent
# cross-check of the bf16/f16 conversions)
# =================================================================================================

def round_rational(fr, p, emin, emax):
    """Round the exact rational fr to a binary format with a p-bit significand (hidden bit
    included), minimum normal exponent emin and maximum exponent emax, ties to even.
    Returns a Python float (exact, since every such value is a double) or +-inf."""
    fr = Fraction(fr)
    if fr == 0:
        return 0.0
    sign = -1.0 if fr < 0 else 1.0
    a = abs(fr)
    # e = floor(log2(a)), found exactly.
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    elif Fraction(2) ** (e + 1) <= a:
        e += 1
    e = max(e, emin)                     # below the normal range the quantum stays fixed
    quantum = Fraction(2) ** (e - (p - 1))
    scaled = a / quantum
    m = scaled.numerator // scaled.denominator
    rem = scaled - m
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and m % 2 == 1):
        m += 1
    value = m * quantum
    if value >= Fraction(2) ** (emax + 1):
        return sign * INF
    return sign * float(value)


def rational_to_f32(fr):
    return F32(round_rational(fr, 24, -126, 127))


def decimal_literal_to_f32(s):
    """A C float literal such as 0.583333f: the decimal string rounded once, directly, to f32
    (going through a double first would round twice)."""
    return rational_to_f32(Fraction(s))


# =================================================================================================
# bf16 / f16 conversions (RNE)
# =================================================================================================

def f32_to_bf16_bits(x):
    """bf16 = the top 16 bits of the f32 pattern after round-to-nearest-even on the low 16 bits
    (§9: "BF16 is the upper 16 bits of f32 (convert with RNE)")."""
    u = f32_bits(x)
    if (u & 0x7FFFFFFF) > 0x7F800000:                 # NaN: keep it a (quiet) NaN
        return CANONICAL_NAN_BF16 | ((u >> 16) & 0x8000)
    lsb = (u >> 16) & 1                               # ties go to the even upper half
    return ((u + 0x7FFF + lsb) >> 16) & 0xFFFF        # a carry into the exponent is correct RNE


def bf16_bits_to_f32(h):
    return f32_from_bits((h & 0xFFFF) << 16)


def round_f32_to_bf16(x):
    return bf16_bits_to_f32(f32_to_bf16_bits(x))


def round_f32_to_f16(x):
    """f16 RNE via numpy (float32 -> float16 is round-to-nearest-even), returned as the exact f32."""
    return F32(np.float16(F32(x)))


def round_to_dtype(x, dtype):
    """§3: the f32 product is converted to the dtype of the tensor that was quantized, RNE."""
    if dtype == "F32":
        return F32(x)
    if dtype == "BF16":
        return round_f32_to_bf16(x)
    if dtype == "F16":
        return round_f32_to_f16(x)
    raise ValueError(dtype)


# =================================================================================================
# §1 Code books (from the doc's hex columns; the decimals are only checked in the self-test)
# =================================================================================================

# §1.1 NF4, index = code.  (hex, decimal as listed in the doc)
NF4_TABLE = [
    ("BF800000", "-1.0"), ("BF3239B1", "-0.6961928009986877"), ("BF066B30", "-0.5250730514526367"),
    ("BECA32A0", "-0.39491748809814453"), ("BE91A24D", "-0.28444138169288635"),
    ("BE3D353F", "-0.18477343022823334"), ("BDBA7871", "-0.09105003625154495"), ("00000000", "0.0"),
    ("3DA2FAFF", "0.07958029955625534"), ("3E24CAE3", "0.16093020141124725"),
    ("3E7C04DD", "0.24611230194568634"), ("3EAD033A", "0.33791524171829224"),
    ("3EE1A4B8", "0.44070982933044434"), ("3F1007AB", "0.5626170039176941"),
    ("3F3913B3", "0.7229568362236023"), ("3F800000", "1.0"),
]
NF4_CODE = [f32_from_bits(int(h, 16)) for h, _ in NF4_TABLE]

# §2 NF4 thresholds T[k] between codes k and k+1: (CUDA literal, f32 value as listed, hex).
NF4_THRESHOLD_TABLE = [
    ("-0.8480964004993439", "-0.8480963706970215", "BF591CD8"),
    ("-0.6106329262256622", "-0.6106328964233398", "BF1C5270"),
    ("-0.4599952697753906", "-0.4599952697753906", "BEEB8480"),
    ("-0.33967943489551544", "-0.33967941999435425", "BEADEA76"),
    ("-0.23460740596055984", "-0.23460739850997925", "BE703CEC"),
    ("-0.13791173323988914", "-0.13791173696517944", "BE0D38BC"),
    ("-0.045525018125772476", "-0.045525018125772476", "BD3A7871"),
    ("0.03979014977812767", "0.03979014977812767", "3D22FAFF"),
    ("0.1202552504837513", "0.120255246758461", "3DF64862"),
    ("0.2035212516784668", "0.2035212516784668", "3E5067E0"),
    ("0.2920137718319893", "0.2920137643814087", "3E9582D4"),
    ("0.3893125355243683", "0.3893125355243683", "3EC753F9"),
    ("0.5016634166240692", "0.5016634464263916", "3F006D04"),
    ("0.6427869200706482", "0.6427869200706482", "3F248DAF"),
    ("0.8614784181118011", "0.8614784479141235", "3F5C89DA"),
]
NF4_THRESHOLDS = [f32_from_bits(int(h, 16)) for _, _, h in NF4_THRESHOLD_TABLE]
NF4_THRESHOLDS_PY = [float(t) for t in NF4_THRESHOLDS]

# AMBIGUITY (found while writing this reference, not in the doc): the doc's f32 column is the CUDA
# literal rounded decimal -> double -> f32 (twice).  Each literal is the shortest repr of a double
# that lies exactly halfway between two f32 values, so the second rounding is a tie.  A C/CUDA
# `...f` literal is rounded ONCE, directly to f32, and for k = 0, 8, 12, 14 that gives the other
# neighbour.  Compiling the literals with nvcc 13.0 (`nvcc -arch=sm_90 -ptx`, constants read from
# the PTX) gives exactly these directly rounded values.  The vectors follow the doc's column
# (= the f32 midpoints, = bnb's torch/CPU bucketize path); the NF4 threshold file also carries
# `packed_nvcc`, the bytes under these compiled thresholds, and every random vector is checked to
# give the same codes under both sets.  See README.md.
NF4_THRESHOLDS_NVCC_HEX = {0: "BF591CD9", 8: "3DF64863", 12: "3F006D03", 14: "3F5C89D9"}
NF4_THRESHOLDS_NVCC = [f32_from_bits(int(NF4_THRESHOLDS_NVCC_HEX.get(k, h), 16))
                       for k, (_, _, h) in enumerate(NF4_THRESHOLD_TABLE)]
NF4_THRESHOLDS_NVCC_PY = [float(t) for t in NF4_THRESHOLDS_NVCC]

# §1.2 FP4 magnitudes indexed by the low 3 bits: raw e2m1 value and the /12 f32 hex.
FP4_RAW = [0.0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0]
FP4_MAG_HEX = ["00000000", "3BAAAAAB", "3F2AAAAB", "3F800000",
               "3EAAAAAB", "3F000000", "3E2AAAAB", "3E800000"]
FP4_MAG = [f32_from_bits(int(h, 16)) for h in FP4_MAG_HEX]
# The CUDA dequant-LUT literals, low 3 bits 0..7 (§1.2 first bullet); checked to round to FP4_MAG.
FP4_LUT_LITERALS = ["0", "0.005208333333", "0.66666667", "1.0", "0.33333333", "0.5",
                    "0.16666667", "0.25"]

# §2 FP4 magnitude thresholds TF (CUDA literals and their f32 hex; NOT the f32 midpoints).
FP4_THRESHOLD_TABLE = [
    ("0.00260417", "3B2AAAB9"), ("0.0859375", "3DB00000"), ("0.20833333", "3E555555"),
    ("0.29166667", "3E955555"), ("0.4166667", "3ED55556"), ("0.583333", "3F155550"),
    ("0.8333333", "3F555555"),
]
FP4_THRESHOLDS = [f32_from_bits(int(h, 16)) for _, h in FP4_THRESHOLD_TABLE]
FP4_THRESHOLDS_PY = [float(t) for t in FP4_THRESHOLDS]
# rank (number of thresholds below |x|) -> low 3 bits; ranks are in increasing magnitude order.
FP4_RANK_TO_BITS = [0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011]


def fp4_lut(code):
    """§1.2/§3: CUDA dequant value lut[v&7] * (1 - 2*((v&8)>>3)); code 8 therefore gives -0.0."""
    sign = fl32_sub(F32(1.0), F32(2 * ((code & 8) >> 3)))
    return fl32_mul(FP4_MAG[code & 7], sign)


FP4_CODE = [fp4_lut(c) for c in range(16)]


def lut_4bit(quant_type):
    return NF4_CODE if quant_type == "nf4" else FP4_CODE


# §1.3 / Appendix A: dynamic 8-bit map, index 0..255 (the table, not a generator).
DYNAMIC_MAP_HEX = """
BF7E3333 BF7A999A BF770000 BF736666 BF6FCCCD BF6C3333 BF68999A BF650000
BF616666 BF5DCCCD BF5A3333 BF56999A BF530000 BF4F6666 BF4BCCCD BF483333
BF44999A BF410000 BF3D6666 BF39CCCD BF363334 BF32999A BF2F0000 BF2B6666
BF27CCCD BF243334 BF20999A BF1D0000 BF196666 BF15CCCD BF123334 BF0E999A
BF0B0000 BF076666 BF03CCCC BF003333 BEF93332 BEF20000 BEEACCCC BEE3999A
BEDC6666 BED53333 BECE0000 BEC6CCCC BEBF999A BEB86666 BEB13333 BEAA0000
BEA2CCCC BE9B999A BE946666 BE8D3334 BE860000 BE7D9999 BE6F3333 BE60CCCD
BE526666 BE440000 BE35999A BE273333 BE18CCCD BE0A6666 BDF80000 BDDB3334
BDC9EB85 BDC428F7 BDBE6667 BDB8A3D7 BDB2E148 BDAD1EB8 BDA75C2A BDA1999A
BD9BD70A BD96147B BD9051EB BD8A8F5D BD84CCCD BD7E147B BD728F5D BD670A3D
BD5B851F BD500000 BD447AE1 BD38F5C3 BD2D70A3 BD21EB85 BD166667 BD0AE148
BCFEB852 BCE7AE15 BCD0A3D7 BCB9999A BCA28F5D BC8B851F BC68F5C3 BC3AE148
BC1F3B64 BC160418 BC0CCCCD BC039581 BBF4BC6A BBE24DD3 BBCFDF3B BBBD70A4
BBAB020D BB989374 BB8624DD BB676C8A BB428F5C BB1DB22D BAF1A9FC BAA7EF9D
BA7765FF BA59E83E BA3C6A80 BA1EECC1 BA016F01 B9C7E283 B98CE705 B923D70B
B8BA1F4B B88AEFB3 B8378034 B7B24206 B70205FF B65A1A94 B513A3B7 00000000
3513A3B7 365A1A94 370205FF 37B24206 38378034 388AEFB3 38BA1F4B 3923D70B
398CE705 39C7E283 3A016F01 3A1EECC1 3A3C6A80 3A59E83E 3A7765FF 3AA7EF9D
3AF1A9FC 3B1DB22D 3B428F5C 3B676C8A 3B8624DD 3B989374 3BAB020D 3BBD70A4
3BCFDF3B 3BE24DD3 3BF4BC6A 3C039581 3C0CCCCD 3C160418 3C1F3B64 3C3AE148
3C68F5C3 3C8B851F 3CA28F5D 3CB9999A 3CD0A3D7 3CE7AE15 3CFEB852 3D0AE148
3D166667 3D21EB85 3D2D70A3 3D38F5C3 3D447AE1 3D500000 3D5B851F 3D670A3D
3D728F5D 3D7E147B 3D84CCCD 3D8A8F5D 3D9051EB 3D96147B 3D9BD70A 3DA1999A
3DA75C2A 3DAD1EB8 3DB2E148 3DB8A3D7 3DBE6667 3DC428F7 3DC9EB85 3DDB3334
3DF80000 3E0A6666 3E18CCCD 3E273333 3E35999A 3E440000 3E526666 3E60CCCD
3E6F3333 3E7D9999 3E860000 3E8D3334 3E946666 3E9B999A 3EA2CCCC 3EAA0000
3EB13333 3EB86666 3EBF999A 3EC6CCCC 3ECE0000 3ED53333 3EDC6666 3EE3999A
3EEACCCC 3EF20000 3EF93332 3F003333 3F03CCCC 3F076666 3F0B0000 3F0E999A
3F123334 3F15CCCD 3F196666 3F1D0000 3F20999A 3F243334 3F27CCCD 3F2B6666
3F2F0000 3F32999A 3F363334 3F39CCCD 3F3D6666 3F410000 3F44999A 3F483333
3F4BCCCD 3F4F6666 3F530000 3F56999A 3F5A3333 3F5DCCCD 3F616666 3F650000
3F68999A 3F6C3333 3F6FCCCD 3F736666 3F770000 3F7A999A 3F7E3333 3F800000
"""
DYNAMIC_MAP = [f32_from_bits(int(h, 16)) for h in DYNAMIC_MAP_HEX.split()]


def dynamic_midpoint(k):
    """§4: m[k] = fl32(fl32(c[k] + c[k+1]) * 0.5), the f32 midpoint the kernel compares against."""
    return fl32_mul(fl32_add(DYNAMIC_MAP[k], DYNAMIC_MAP[k + 1]), F32(0.5))


DYNAMIC_MIDPOINTS = [dynamic_midpoint(k) for k in range(255)]
DYNAMIC_MIDPOINTS_PY = [float(m) for m in DYNAMIC_MIDPOINTS]


# =================================================================================================
# §2 Encoders (one scaled f32 value -> code)
# =================================================================================================

def nf4_encode(s, thresholds=None):
    """§2 ENC for NF4: code = #{k : s > T[k]}.  A tie s == T[k] is not counted, so it goes to the
    lower (more negative) code; NaN compares false everywhere and gives code 0.
    thresholds: the doc's table by default; NF4_THRESHOLDS_NVCC_PY for the nvcc-compiled set."""
    v = float(s)
    return sum(1 for t in (thresholds or NF4_THRESHOLDS_PY) if v > t)


def fp4_encode(s):
    """§2 ENC for FP4: sign bit 8 iff s < 0 (so -0.0 and NaN get sign 0); rank = #{k : |s| > TF[k]}
    with the CUDA literals (magnitude ties go to the smaller magnitude); bits from the rank table."""
    v = float(s)
    sign = 8 if v < 0 else 0
    m = abs(v)                                   # NaN stays NaN: every comparison false, rank 0
    rank = sum(1 for t in FP4_THRESHOLDS_PY if m > t)
    return FP4_RANK_TO_BITS[rank] | sign


def encode_4bit(s, quant_type, nf4_thresholds=None):
    return nf4_encode(s, nf4_thresholds) if quant_type == "nf4" else fp4_encode(s)


def dynamic_encode(s):
    """§4 closed form of the CUDA 8-bit search: the nearest code by the f32 midpoints m[k]; an exact
    tie s == m[k] goes to the EVEN index of {k, k+1}; NaN -> 0; outside [c0, c255] clamps."""
    v = float(s)
    if math.isnan(v):
        return 0
    lower = sum(1 for m in DYNAMIC_MIDPOINTS_PY if m < v)   # s lies in (m[lower-1], m[lower]]
    if lower < 255 and v == DYNAMIC_MIDPOINTS_PY[lower]:
        return lower if lower % 2 == 0 else lower + 1      # tie between codes lower, lower+1
    return lower


def dynamic_encode_search(s):
    """Self-test cross-check of dynamic_encode: a bisection over the 256 codes as the doc describes
    the kernel (pivot 127, steps 64..1, branch `s > code[pivot]`, then a comparison with the f32
    midpoint between the final pivot and its neighbour on the side of s).  Written from the doc's
    description, independently of the closed form above."""
    c = [float(x) for x in DYNAMIC_MAP]
    v = float(s)
    pivot, lo_idx, hi_idx = 127, 0, 255
    step = 64
    while step > 0:
        if v > c[pivot]:
            lo_idx = pivot
            pivot += step
        else:
            hi_idx = pivot
            pivot -= step
        step //= 2
    if v > c[pivot]:
        mid = float(fl32_mul(fl32_add(DYNAMIC_MAP[hi_idx], DYNAMIC_MAP[pivot]), F32(0.5)))
        return hi_idx if v > mid else pivot
    mid = float(fl32_mul(fl32_add(DYNAMIC_MAP[lo_idx], DYNAMIC_MAP[pivot]), F32(0.5)))
    return lo_idx if v < mid else pivot


# =================================================================================================
# §2 quantize_4bit, §3 dequantize_4bit
# =================================================================================================

def block_absmax(values):
    """§2: absmax = max |x| over the block with fmaxf (NaN ignored), starting from -FLT_MAX as the
    kernel does.  (An all-NaN block would give -FLT_MAX; no vector contains one, see §11.7.)"""
    acc = F32(-3.4028234663852886e38)
    for x in values:
        acc = fmaxf(acc, f32_abs(x))
    return acc


def scale_value(x, inv):
    """§2: s = fl32(x * inv)."""
    return fl32_mul(x, inv)


def quantize_4bit(xs, blocksize, quant_type, inv_override=None, nf4_thresholds=None):
    """§2.  xs: list of f32 values (the input upcast exactly to f32, row-major).
    Returns (codes, absmax list, pad_code or None).  inv_override(b, inv) lets the robustness
    check substitute a reciprocal 1 ulp away; nf4_thresholds selects the NF4 threshold set."""
    n = len(xs)
    nb = (n + blocksize - 1) // blocksize
    codes, absmax = [], []
    inv = None
    for b in range(nb):
        block = xs[b * blocksize:min(n, (b + 1) * blocksize)]
        amax = block_absmax(block)
        absmax.append(amax)
        inv = fl32_recip(amax)                 # zero block: +inf;  inf in block: 0
        if inv_override is not None:
            inv = inv_override(b, inv)
        for x in block:
            codes.append(encode_4bit(scale_value(x, inv), quant_type, nf4_thresholds))
    pad_code = None
    if n % 2 == 1:
        # Odd n: the low nibble of the last byte is the code of the padding value 0*inv of the
        # last block (NaN -> code 0 when that block is all zero and inv = +inf).
        pad_code = encode_4bit(scale_value(F32(0.0), inv), quant_type, nf4_thresholds)
    return codes, absmax, pad_code


def pack_nibbles(codes, pad_code):
    """§2: packed[j] = (code[2j] << 4) | code[2j+1]; element 2j goes in the HIGH nibble."""
    out = []
    for j in range(0, len(codes), 2):
        hi = codes[j]
        lo = codes[j + 1] if j + 1 < len(codes) else pad_code
        out.append(((hi & 0xF) << 4) | (lo & 0xF))
    return out


def unpack_code(packed, i):
    """§3: even i -> high nibble, odd i -> low nibble."""
    byte = packed[i // 2]
    return byte >> 4 if i % 2 == 0 else byte & 0xF


def dequantize_4bit(packed, absmax, n, blocksize, quant_type, dtype):
    """§3: out_i = T(fl32(LUT[code_i] * absmax[i // blocksize])), T the original dtype (RNE).
    Returned as f32 values (the T value upcast exactly)."""
    lut = lut_4bit(quant_type)
    out = []
    for i in range(n):
        prod = fl32_mul(lut[unpack_code(packed, i)], absmax[i // blocksize])
        out.append(round_to_dtype(prod, dtype))
    return out


# =================================================================================================
# §4 double quantization
# =================================================================================================

def offset_mean(absmax):
    """§4 / §11.2: offset = the correctly rounded mean of the f32 absmax values.  Computed exactly
    with rationals; the brief's formula fl32(math.fsum(absmax)/nb) is asserted to agree (it rounds
    three times, so the exact form is the definition and fsum is the cross-check)."""
    nb = len(absmax)
    exact = sum((Fraction(float(a)) for a in absmax), Fraction(0)) / nb
    off = rational_to_f32(exact)
    via_fsum = F32(math.fsum(float(a) for a in absmax) / nb)
    assert f32_bits(off) == f32_bits(via_fsum), "fsum mean disagrees with exact mean"
    return off


def offset_sequential_f64(absmax):
    """Informational: the mean with a plain sequential double sum (what a simple Java loop does)."""
    acc = 0.0
    for a in absmax:
        acc += float(a)
    return F32(acc / len(absmax))


def center(a, offset):
    """§4: centered = fl32(absmax1 - offset)."""
    return fl32_sub(a, offset)


def quantize_blockwise_8bit(values, blocksize=256, inv_override=None):
    """§4 quantize_blockwise (CUDA): per block of 256, absmax2 = max|c| (fmaxf), inv = fl32(1/absmax2),
    s = fl32(c*inv), q = dynamic_encode(s).  The last block may be partial."""
    n = len(values)
    nb2 = (n + blocksize - 1) // blocksize
    q, absmax2 = [], []
    for b in range(nb2):
        block = values[b * blocksize:min(n, (b + 1) * blocksize)]
        amax2 = block_absmax(block)
        absmax2.append(amax2)
        inv = fl32_recip(amax2)
        if inv_override is not None:
            inv = inv_override(b, inv)
        for c in block:
            q.append(dynamic_encode(scale_value(c, inv)))
    return q, absmax2


def double_quant(absmax, offset=None, inv_override=None):
    """§4: (offset, q2, absmax2) for the first-level absmax vector."""
    if offset is None:
        offset = offset_mean(absmax)
    centered = [center(a, offset) for a in absmax]
    q2, absmax2 = quantize_blockwise_8bit(centered, 256, inv_override)
    return offset, q2, absmax2


def dequant_absmax(q2, absmax2, offset):
    """§4: absmax[i] = fl32(fl32(code2[q2[i]] * absmax2[i // 256]) + offset)."""
    return [fl32_add(fl32_mul(DYNAMIC_MAP[q], absmax2[i // 256]), offset) for i, q in enumerate(q2)]


# =================================================================================================
# §7 LLM.int8 row-wise weight quantization
# =================================================================================================

INT8_DEQUANT_SCALE = decimal_literal_to_f32("7.874015718698502e-3")   # f32(7.874015718698502e-3)


def rint_half_even(v):
    """__float2int_rn / torch.round: nearest integer, exact .5 ties to even."""
    f = math.floor(v)
    d = v - f                                    # exact for |v| < 2^52
    if d > 0.5 or (d == 0.5 and f % 2 == 1):
        f += 1
    return int(f)


def int8_quant_value(b, scale):
    """CB = int8(rint_half_even(fl32(B * scale))); NaN (the 0*inf of a zero row) -> 0."""
    p = float(fl32_mul(b, scale))
    if math.isnan(p):
        return 0
    return max(-128, min(127, rint_half_even(p)))


def int8_rowwise_quant(rows, scale_override=None):
    """§7: B = W.to(float16) (RNE), SCB[r] = max_j |B[r,j]| (as f32), scale = fl32(127/SCB[r]),
    CB = rint_half_even(fl32(B*scale)).  A zero row has scale +inf and gives CB 0, SCB 0."""
    cb, scb = [], []
    for r, row in enumerate(rows):
        b = [round_f32_to_f16(x) for x in row]
        s = block_absmax(b)
        scale = fl32_div(F32(127.0), s)
        if scale_override is not None:
            scale = scale_override(r, scale)
        scb.append(s)
        cb.append([int8_quant_value(v, scale) for v in b])
    return cb, scb


def int8_dequant(cb, scb):
    """§7: W' = fl32(fl32(CB * SCB[r]) * f32(7.874015718698502e-3))."""
    return [[fl32_mul(fl32_mul(F32(q), scb[r]), INT8_DEQUANT_SCALE) for q in row]
            for r, row in enumerate(cb)]


# =================================================================================================
# §6 memory accounting
# =================================================================================================

def storage_bytes_4bit(n, blocksize, double_quant_on):
    """§6: true storage of one quantized weight (packed + statistics + 64-byte quant_map)."""
    nb = -(-n // blocksize)
    if double_quant_on:
        return -(-n // 2) + nb + 4 * (-(-nb // 256)) + 1024 + 64
    return -(-n // 2) + 4 * nb + 64


# =================================================================================================
# §9 safetensors, by hand
# =================================================================================================

# Writer order (§9): dtype descending in the enum order, then name.
_ST_DTYPE_ORDER = ["U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16",
                   "I8", "U8"]
_ST_NUMPY = safetensors_file.NUMPY
read_safetensors = safetensors_file.read


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, dtype, shape, numpy array already in that storage dtype), written in
    the order of §9's writer (safetensors_file holds the rest of the format)."""
    order = sorted(tensors, key=lambda t: (_ST_DTYPE_ORDER.index(t[1]), t[0].encode()))
    safetensors_file.write(path, order, metadata)


# -------------------------------------------------------------------------------------------------
# Converting lists of f32 scalars to storage arrays (NaN stored canonically: payload unspecified)
# -------------------------------------------------------------------------------------------------

def f32_array(values):
    bits = [CANONICAL_NAN_F32 if math.isnan(float(v)) else f32_bits(v) for v in values]
    return np.array(bits, dtype="<u4").view("<f4")


def input_array(values, dtype):
    """The original input in its own dtype; values are exactly representable in it."""
    if dtype == "F32":
        return f32_array(values)
    if dtype == "BF16":
        bits = [f32_to_bf16_bits(v) for v in values]
        assert all(math.isnan(float(v)) or f32_bits(bf16_bits_to_f32(h)) == f32_bits(v)
                   for v, h in zip(values, bits))
        return np.array(bits, dtype="<u2")
    if dtype == "F16":
        arr = np.array([np.float16(F32(v)) for v in values], dtype="<f2")
        assert all(math.isnan(float(v)) or F32(h) == v for v, h in zip(values, arr))
        return arr
    raise ValueError(dtype)


def input_values_from_array(arr, dtype):
    """Inverse of input_array: the exact f32 upcast of every stored element, row-major."""
    flat = arr.reshape(-1)
    if dtype == "F32":
        return [F32(x) for x in flat]
    if dtype == "BF16":
        return [bf16_bits_to_f32(int(h)) for h in flat]
    if dtype == "F16":
        return [F32(x) for x in flat]
    raise ValueError(dtype)


# =================================================================================================
# Case construction
# =================================================================================================

def _robust_codes_rcp(xs, blocksize, quant_type, codes, pad):
    """Codes unchanged when every block reciprocal is moved 1 ulp up or down (GPU rcp.approx, §0)."""
    for move in (next_up, next_down):
        def ov(b, inv, move=move):
            return inv if math.isinf(float(inv)) or float(inv) == 0.0 else move(inv)
        c2, _, p2 = quantize_4bit(xs, blocksize, quant_type, ov)
        if c2 != codes or p2 != pad:
            return False
    return True


def _fragile_elements(xs, blocksize, quant_type, codes):
    """Indices whose 4-bit code changes when the block reciprocal moves 1 ulp (§0) or, for NF4,
    under the nvcc-compiled thresholds (see NF4_THRESHOLDS_NVCC)."""
    variants = []
    for move in (next_up, next_down):
        def ov(b, inv, move=move):
            return inv if math.isinf(float(inv)) or float(inv) == 0.0 else move(inv)
        variants.append(quantize_4bit(xs, blocksize, quant_type, ov)[0])
    if quant_type == "nf4":
        variants.append(quantize_4bit(xs, blocksize, quant_type,
                                      nf4_thresholds=NF4_THRESHOLDS_NVCC_PY)[0])
    return sorted({i for v in variants for i, (a, b) in enumerate(zip(v, codes)) if a != b})


def _robust_dq(absmax, offset, q2):
    """q2 unchanged if the offset moves by +-1 or +-2 ulp (§4: bnb's torch mean may differ) and if the
    nested reciprocal moves by +-1 ulp."""
    for steps in (1, 2):
        for move in (next_up, next_down):
            o = offset
            for _ in range(steps):
                o = move(o)
            if double_quant(absmax, o)[1] != q2:
                return False, "offset"
    for move in (next_up, next_down):
        def ov(b, inv, move=move):
            return inv if math.isinf(float(inv)) or float(inv) == 0.0 else move(inv)
        if double_quant(absmax, offset, ov)[1] != q2:
            return False, "rcp"
    return True, ""


def build_4bit_case(quant_type, blocksize, dtype, shape, xs, dq, description, extra_meta=None,
                    check_robust=True):
    """All expected tensors of one 4-bit case.  Returns (tensors, metadata, robust: bool)."""
    n = len(xs)
    assert int(np.prod(shape)) == n
    SENTINEL.count = 0
    codes, absmax, pad = quantize_4bit(xs, blocksize, quant_type)
    packed = pack_nibbles(codes, pad)
    deq = dequantize_4bit(packed, absmax, n, blocksize, quant_type, dtype)
    nb = len(absmax)
    tensors = [
        ("input", dtype, list(shape), input_array(xs, dtype)),
        ("packed", "U8", [(n + 1) // 2, 1], np.array(packed, dtype="u1")),
        ("absmax", "F32", [nb], f32_array(absmax)),
        ("dequant", "F32", [n], f32_array(deq)),
    ]
    meta = {"quant_type": quant_type, "blocksize": str(blocksize),
            "double_quant": "true" if dq else "false", "input_dtype": dtype,
            "description": description}
    robust = True
    if check_robust:
        r = _robust_codes_rcp(xs, blocksize, quant_type, codes, pad)
        meta["codes_robust_to_rcp_1ulp"] = "true" if r else "false"
        robust &= r
    if quant_type == "nf4":
        c_nv, _, p_nv = quantize_4bit(xs, blocksize, quant_type, nf4_thresholds=NF4_THRESHOLDS_NVCC_PY)
        same = c_nv == codes and p_nv == pad
        meta["codes_same_with_nvcc_nf4_thresholds"] = "true" if same else "false"
        if not same:
            tensors.append(("packed_nvcc", "U8", [(n + 1) // 2, 1],
                            np.array(pack_nibbles(c_nv, p_nv), dtype="u1")))
            meta["packed_nvcc_differs_at_elements"] = str(sum(1 for a, b in zip(codes, c_nv) if a != b))
        robust &= same
    if dq:
        offset, q2, absmax2 = double_quant(absmax)
        absmax_dq = dequant_absmax(q2, absmax2, offset)
        deq_dq = dequantize_4bit(packed, absmax_dq, n, blocksize, quant_type, dtype)
        tensors += [
            ("qabsmax", "U8", [nb], np.array(q2, dtype="u1")),
            ("nested_absmax", "F32", [len(absmax2)], f32_array(absmax2)),
            ("offset", "F32", [1], f32_array([offset])),
            ("absmax_dq", "F32", [nb], f32_array(absmax_dq)),
            ("dequant_dq", "F32", [n], f32_array(deq_dq)),
        ]
        seq_ok = f32_bits(offset_sequential_f64(absmax)) == f32_bits(offset)
        meta["offset_sequential_f64_sum_agrees"] = "true" if seq_ok else "false"
        if check_robust:
            r, _why = _robust_dq(absmax, offset, q2)
            meta["qabsmax_robust_to_offset_2ulp_and_rcp_1ulp"] = "true" if r else "false"
            robust &= r and seq_ok
    no_sub = SENTINEL.count == 0
    meta["no_subnormal_intermediates"] = "true" if no_sub else "false"
    if extra_meta:
        meta.update(extra_meta)
    meta["generator"] = "tests/reference/bnb_reference.py"
    return tensors, meta, robust and no_sub


def build_int8_case(dtype, rows, description, extra_meta=None, check_robust=True):
    """rows: list of rows of f32 values (exactly representable in dtype)."""
    SENTINEL.count = 0
    cb, scb = int8_rowwise_quant(rows)
    deq = int8_dequant(cb, scb)
    r_, c_ = len(rows), len(rows[0])
    flat = [x for row in rows for x in row]
    tensors = [
        ("input", dtype, [r_, c_], input_array(flat, dtype)),
        ("cb", "I8", [r_, c_], np.array(cb, dtype="i1")),
        ("scb", "F32", [r_], f32_array(scb)),
        ("dequant", "F32", [r_, c_], f32_array([v for row in deq for v in row])),
    ]
    meta = {"quant_type": "int8", "input_dtype": dtype, "description": description}
    robust = True
    if check_robust:
        # §7: random vectors must not depend on __fdividef's <= 2 ulp error in 127/SCB.
        for steps in (1, 2):
            for move in (next_up, next_down):
                def ov(r, sc, move=move, steps=steps):
                    if math.isinf(float(sc)):
                        return sc
                    for _ in range(steps):
                        sc = move(sc)
                    return sc
                if int8_rowwise_quant(rows, ov)[0] != cb:
                    robust = False
        meta["cb_robust_to_scale_2ulp"] = "true" if robust else "false"
    no_sub = SENTINEL.count == 0
    meta["no_subnormal_intermediates"] = "true" if no_sub else "false"
    if extra_meta:
        meta.update(extra_meta)
    meta["generator"] = "tests/reference/bnb_reference.py"
    return tensors, meta, robust and no_sub


# -------------------------------------------------------------------------------------------------
# Deterministic random data
# -------------------------------------------------------------------------------------------------

def normal(rng):
    """Box-Muller from random.Random.random() (whose stream is stable across Python versions)."""
    u1 = 1.0 - rng.random()                      # (0, 1]
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def representable_normal_value(v, dtype):
    """Round a double to f32 then to dtype; None if that is zero, subnormal, inf or near overflow
    (random data avoids subnormals, §11.6, and f16 overflow)."""
    x = F32(v)
    if dtype != "F32":
        x = round_to_dtype(x, dtype)
    a = abs(float(x))
    min_normal = MIN_NORMAL_F16 if dtype == "F16" else MIN_NORMAL_F32
    max_ok = MAX_F16 / 2 if dtype == "F16" else 1e37
    if a < min_normal or a > max_ok:
        return None
    return x


def random_values(rng, n, dtype, scale, row_len=None):
    """n normal deviates times scale (and a per-row factor in [1/4, 4) when row_len is given, so the
    block absmax varies along the tensor), rounded to dtype, redrawn if not a normal number."""
    out = []
    row_factor = 1.0
    for i in range(n):
        if row_len and i % row_len == 0:
            row_factor = 2.0 ** (4.0 * rng.random() - 2.0)
        while True:
            x = representable_normal_value(normal(rng) * scale * row_factor, dtype)
            if x is not None:
                break
        out.append(x)
    return out


# =================================================================================================
# The case list
# =================================================================================================

QUANT_TYPES = ["nf4", "fp4"]
DTYPES = ["F32", "BF16", "F16"]
DTYPE_TAG = {"F32": "f32", "BF16": "bf16", "F16": "f16"}
# (blocksize, shape): tails in the last block, some odd element counts.
RANDOM_SHAPES = {32: [24, 101], 64: [30, 90], 128: [20, 131], 256: [12, 250], 4096: [3, 3001]}
RANDOM_SCALES = [1.0, 0.02, 7.5, 3e-3, 150.0]


def _repair_fragile(rng, xs, blocksize, quant_type, dtype, scale):
    """Redraw (from the same stream) every element whose code is fragile (see _fragile_elements),
    keeping each redrawn magnitude below the rest of its block so the absmax does not change.
    Needed mostly for BF16/F16 inputs, whose short significands often hit a dyadic threshold such as
    FP4's 0.0859375 = 11/128 exactly.  Returns the number of redraws."""
    redrawn = 0
    for _round in range(50):
        codes = quantize_4bit(xs, blocksize, quant_type)[0]
        fragile = _fragile_elements(xs, blocksize, quant_type, codes)
        if not fragile:
            return redrawn
        for i in fragile:
            b = i // blocksize
            others = [x for j, x in enumerate(xs[b * blocksize:(b + 1) * blocksize])
                      if b * blocksize + j != i]
            cap = float(block_absmax(others)) if others else INF
            while True:
                x = representable_normal_value(normal(rng) * scale, dtype)
                if x is not None and abs(float(x)) < cap:
                    break
            xs[i] = x
            redrawn += 1
    raise RuntimeError("repair did not converge")


def _random_4bit(name_base, qt, bs, dtype, shape, dq, scale, seed, desc):
    """Random case: fragile elements are redrawn; if the double-quant checks (offset +-2 ulp, nested
    rcp, sequential sum) or the subnormal sentinel still fail, the next seed is tried.  The seed used
    and the number of redrawn elements are recorded in the metadata."""
    n = int(np.prod(shape))
    for attempt in range(200):
        s = seed + attempt
        rng = random.Random(s)
        xs = random_values(rng, n, dtype, scale, row_len=shape[-1] if len(shape) == 2 else None)
        redrawn = _repair_fragile(rng, xs, bs, qt, dtype, scale)
        t, m, ok = build_4bit_case(qt, bs, dtype, shape, xs, dq, desc,
                                   {"seed": str(s), "redrawn_fragile_elements": str(redrawn)})
        if ok:
            return name_base, t, m
    raise RuntimeError("no robust draw for " + name_base)


def cases_random_grid():
    """Every quant type x input dtype x block size, random normal data; DQ on for half the grid
    (chosen so that each quant type, dtype and block size sees both)."""
    out = []
    idx = 0
    for qi, qt in enumerate(QUANT_TYPES):
        for di, dt in enumerate(DTYPES):
            for bi, bs in enumerate(sorted(RANDOM_SHAPES)):
                dq = (qi + di + bi) % 2 == 0
                shape = RANDOM_SHAPES[bs]
                scale = RANDOM_SCALES[idx % len(RANDOM_SCALES)]
                name = "%s_bs%d_%s_random%s" % (qt, bs, DTYPE_TAG[dt], "_dq" if dq else "")
                n = shape[0] * shape[1]
                desc = ("random normal x %g (row factors 1/4..4), shape %s, n=%d%s, nb=%d%s" %
                        (scale, shape, n, " (odd)" if n % 2 else "", -(-n // bs),
                         ", double quant" if dq else ""))
                out.append(_random_4bit(name, qt, bs, dt, shape, dq, scale, 1000 + 100 * idx, desc))
                idx += 1
    return out


def cases_dq_multi_nested():
    """Double quant over several 256-blocks of absmax, the last one partial."""
    out = []
    # nb = 600 at bs 32 -> nested blocks of 256, 256, 88; n odd with a 27-element tail block.
    n = 599 * 32 + 27
    out.append(_random_4bit("nf4_bs32_f32_random_dq_nb600", "nf4", 32, "F32", [n], True, 0.5, 7000,
                            "random normal x 0.5, 1-D n=%d (odd), nb=600 -> 3 nested blocks "
                            "(256, 256, 88), double quant" % n))
    # nb = 513 at bs 32 -> nested blocks of 256, 256, 1 (single-element nested block).
    n = 512 * 32 + 7
    out.append(_random_4bit("fp4_bs32_bf16_random_dq_nb513", "fp4", 32, "BF16", [n], True, 2.0, 7100,
                            "random normal x 2, 1-D n=%d (odd), nb=513 -> 3 nested blocks "
                            "(256, 256, 1), double quant" % n))
    n = 300 * 64 - 31
    out.append(_random_4bit("nf4_bs64_f16_random_dq_nb300", "nf4", 64, "F16", [n], True, 0.05, 7200,
                            "random normal x 0.05, 1-D n=%d (odd), nb=300 -> nested blocks "
                            "(256, 44), double quant" % n))
    return out


def cases_magnitudes():
    """Huge (1e30) and tiny (1e-30) magnitudes; for F16 the largest/smallest sensible scales."""
    out = []
    seed = 8000
    for qt in QUANT_TYPES:
        for dt in DTYPES:
            for label, scale in (("huge", 1e30), ("tiny", 1e-30)):
                if dt == "F16":
                    scale = 1.0e4 if label == "huge" else 2.0e-3
                shape = [16, 72]
                name = "%s_bs64_%s_%s_dq" % (qt, DTYPE_TAG[dt], label)
                desc = "%s magnitudes: random normal x %g, shape %s, double quant" % (label, scale, shape)
                out.append(_random_4bit(name, qt, 64, dt, shape, True, scale, seed, desc))
                seed += 100
    return out


def cases_codepoints():
    """Every code value times a power-of-two absmax: inv is exact, so each element must decode back
    to itself exactly (dequant == input)."""
    out = []
    exps = [0, -1, 5, -9, 20, -40, 60, -60, 100, -100]
    for qt in QUANT_TYPES:
        lut = lut_4bit(qt)
        rng = random.Random(9000 if qt == "nf4" else 9100)
        xs = []
        for e in exps:
            p = F32(2.0 ** e)
            block = [fl32_mul(lut[c], p) for c in range(16)] * 4
            rng.shuffle(block)
            xs += block
        name = "%s_bs64_f32_codepoints_dq" % qt
        desc = ("all 16 code values x 2^e, e in %s, one 64-block per e (each code 4x, shuffled); "
                "dequant equals input as numbers (FP4 -0.0 comes back as +0.0); double quant" % exps)
        t, m, _ok = build_4bit_case(qt, 64, "F32", [len(exps), 64], xs, True, desc)
        out.append((name, t, m))
    return out


def cases_thresholds():
    """Every decision threshold, and its +-1 ulp neighbours, times a power-of-two absmax (so
    s = x*inv is exactly the threshold): ties go to the lower code (NF4) / smaller magnitude (FP4)."""
    out = []
    exps = [0, -3, 7, -20, 40, -50]
    for qt in QUANT_TYPES:
        rng = random.Random(9200 if qt == "nf4" else 9300)
        xs = []
        for bi, e in enumerate(exps):
            p = F32(2.0 ** e)
            block = []
            if qt == "nf4":
                for t in NF4_THRESHOLDS:
                    block += [t, next_down(t), next_up(t)]
            else:
                for t in FP4_THRESHOLDS:
                    for sgn in (F32(1.0), F32(-1.0)):
                        block += [fl32_mul(t, sgn), fl32_mul(next_down(t), sgn),
                                  fl32_mul(next_up(t), sgn)]
            block = [fl32_mul(v, p) for v in block]
            lut = lut_4bit(qt)
            k = 0
            while len(block) < 63:                    # fill with exact code values
                block.append(fl32_mul(lut[k % 16], p))
                k += 1
            rng.shuffle(block)
            # the absmax-setting element: +2^e or -2^e alternately (s = +-1 exactly)
            block.insert(0, fl32_mul(F32(1.0 if bi % 2 == 0 else -1.0), p))
            xs += block
        name = "%s_thresholds_bs64_f32" % qt
        desc = ("each %s threshold and its +-1 ulp neighbours x 2^e (e in %s), first element of each "
                "block +-2^e sets absmax; rest filled with code values" %
                ("NF4 T[k]" if qt == "nf4" else "FP4 TF[k] (both signs)", exps))
        t, m, _ok = build_4bit_case(qt, 64, "F32", [len(exps), 64], xs, False, desc)
        out.append((name, t, m))
    return out


def cases_zero_blocks():
    """Blocks that are entirely zero (+0 / -0): absmax 0, inv = +inf, 0*inf = NaN -> code 0 (§2).
    The last, partial block is also zero and n is odd, so the pad nibble is code 0 too."""
    out = []
    for qt in QUANT_TYPES:
        rng = random.Random(9400 if qt == "nf4" else 9500)
        bs = 64
        n = 6 * bs + 33
        for attempt in range(200):
            xs = []
            for b in range(7):
                size = bs if b < 6 else 33
                if b in (1, 3, 6):
                    # +0 and -0 mixed (block 1 all +0)
                    xs += [F32(-0.0) if (b != 1 and i % 3 == 0) else F32(0.0) for i in range(size)]
                else:
                    xs += random_values(rng, size, "F32", 1.0)
            t, m, ok = build_4bit_case(qt, bs, "F32", [n], xs, True,
                                       "blocks 1, 3 and the 33-element tail block 6 are all zero "
                                       "(+0/-0); n=%d odd so the pad nibble is the code of 0*inf; "
                                       "double quant" % n)
            if ok:
                out.append(("%s_bs64_f32_zero_blocks_dq" % qt, t, m))
                break
        else:
            raise RuntimeError("zero blocks")
    return out


def cases_inf_nan():
    """Non-finite inputs, by the kernel rules of §2 (the doc's own vectors do not exercise these,
    §11.7): absmax ignores NaN; inf in a block gives absmax inf, inv 0, +-inf*0 = NaN -> code 0,
    finite*0 = +-0; NaN -> code 0.  Dequant of such blocks contains NaN (0*inf) and -inf."""
    out = []
    for qt in QUANT_TYPES:
        rng = random.Random(9600 if qt == "nf4" else 9700)
        bs = 64
        xs = random_values(rng, 6 * bs, "F32", 1.0)
        xs[bs + 5] = F32(INF)                        # block 1: +inf
        xs[2 * bs + 17] = F32(-INF)                  # block 2: -inf
        xs[3 * bs + 0] = F32(float("nan"))           # block 3: NaN among finite values
        xs[3 * bs + 40] = F32(float("nan"))
        xs[4 * bs + 8] = F32(float("nan"))           # block 4: NaN and +inf and -inf
        xs[4 * bs + 9] = F32(INF)
        xs[4 * bs + 63] = F32(-INF)
        desc = ("NON-FINITE INPUT: block 1 has +inf, block 2 has -inf, block 3 has two NaN, block 4 "
                "has NaN, +inf and -inf; blocks 0 and 5 finite. NaN stored as 0x7FC00000, compare NaN "
                "as NaN; no double quant")
        t, m, _ok = build_4bit_case(qt, bs, "F32", [6, 64], xs, False, desc)
        out.append(("%s_bs64_f32_inf_nan" % qt, t, m))
    return out


def case_dynamic_map_ties():
    """All 255 f32 midpoints m[k] of the dynamic map, encoded directly (no scaling): exact ties
    go to the even index.  Also the +-1 ulp neighbours of every midpoint."""
    mids = DYNAMIC_MIDPOINTS
    codes = [dynamic_encode(m) for m in mids]
    neigh = []
    for m in mids:
        neigh += [next_down(m), next_up(m)]
    ncodes = [dynamic_encode(v) for v in neigh]
    lower_rule_differs = sum(1 for k, c in enumerate(codes) if c != k)
    tensors = [
        ("input", "F32", [255], f32_array(mids)),
        ("codes", "U8", [255], np.array(codes, dtype="u1")),
        ("input_neighbors", "F32", [510], f32_array(neigh)),
        ("codes_neighbors", "U8", [510], np.array(ncodes, dtype="u1")),
        ("dynamic_map", "F32", [256], f32_array(DYNAMIC_MAP)),
    ]
    meta = {"quant_type": "dynamic8", "input_dtype": "F32",
            "description": ("input[k] = fl32(fl32(code[k]+code[k+1])*0.5), codes = CUDA 8-bit encode of "
                            "input (exact tie -> even index of {k,k+1}; %d of 255 differ from ties-to-"
                            "lower); input_neighbors = (down, up) 1-ulp neighbours of each midpoint"
                            % lower_rule_differs),
            "generator": "tests/reference/bnb_reference.py"}
    return ("dynamic_map_ties", tensors, meta)


def cases_int8():
    out = []
    # Random F32 rows with a zero row.
    for name, dtype, shape, scale, seed in (("int8_f32_random", "F32", [17, 96], 0.05, 11000),
                                            ("int8_bf16_random", "BF16", [9, 128], 3.0, 11100)):
        zero_row = 5 if dtype == "F32" else 2
        for attempt in range(200):
            rng = random.Random(seed + attempt)
            flat = random_values(rng, shape[0] * shape[1], dtype, scale, row_len=shape[1])
            rows = [flat[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
            rows[zero_row] = [F32(-0.0) if j % 2 else F32(0.0) for j in range(shape[1])]
            t, m, ok = build_int8_case(dtype, rows,
                                       "random normal x %g (row factors 1/4..4), row %d all zero "
                                       "(+0/-0)" % (scale, zero_row), {"seed": str(seed + attempt)})
            if ok:
                out.append((name, t, m))
                break
        else:
            raise RuntimeError(name)

    # Exact .5 ties with an exact scale.
    cols = 256
    rows = []
    # SCB = 127 * 2^k  ->  scale = 2^-k exactly, every (m + 0.5) * 2^k is a tie.
    for k, neg_max in ((0, False), (-6, True), (5, False), (-2, True)):
        p = 2.0 ** k
        row = [F32((-127.0 if neg_max else 127.0) * p)]
        row += [F32((m + 0.5) * p) for m in range(-127, 127)]
        row += [F32(-0.0)]
        rows.append(row[:cols])
    # SCB = 2^k  ->  scale = 127 * 2^-k exactly; the only ties are +-SCB/2 -> +-63.5 -> +-64.
    for k in (2, -3):
        p = 2.0 ** k
        row = [F32(p), F32(p / 2), F32(-p / 2)]
        row += [F32(j / 256.0 * p) for j in range(-127, 128) if j != 0][:cols - 3]
        rows.append(row[:cols])
    rows.append([F32(0.0)] * cols)                    # zero row
    assert all(len(r) == cols for r in rows)
    t, m, _ok = build_int8_case("F32", rows,
                                "exact .5 ties: rows 0-3 have SCB = 127*2^k (scale 2^-k exact) with "
                                "every (m+0.5)*2^k; rows 4-5 have SCB = 2^k (scale 127*2^-k exact) "
                                "with +-SCB/2 -> +-63.5 -> +-64; row 6 zero. Ties valid only for the "
                                "IEEE scale", check_robust=False)
    out.append(("int8_f32_ties", t, m))

    # The W.to(float16) step: f32 values exactly halfway between f16 neighbours (RNE -> even).
    rng = random.Random(11200)
    rows = []
    for r in range(4):
        row = []
        for j in range(64):
            e = rng.randint(-8, 3)
            mant = rng.randint(1024, 2047)           # an f16 significand, then +- half an f16 ulp
            base = mant * 2.0 ** (e - 10)
            half = 2.0 ** (e - 11)
            kind = j % 4
            v = base + half if kind == 0 else base - half if kind == 1 else \
                base + half * 1.0000001 if kind == 2 else base
            row.append(F32(v if rng.random() < 0.5 else -v))
        rows.append(row)
    t, m, ok = build_int8_case("F32", rows,
                               "F32 inputs exactly halfway between two f16 values (and next to that): "
                               "checks B = W.to(float16) with RNE before the row-wise quant")
    m["note"] = "cb_robust_to_scale_2ulp is informational here"
    out.append(("int8_f32_f16_rounding", t, m))
    return out


def all_cases():
    cases = []
    cases += cases_random_grid()
    cases += cases_dq_multi_nested()
    cases += cases_magnitudes()
    cases += cases_codepoints()
    cases += cases_thresholds()
    cases += cases_zero_blocks()
    cases += cases_inf_nan()
    cases.append(case_dynamic_map_ties())
    cases += cases_int8()
    return cases


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cases = all_cases()
    names = [c[0] for c in cases]
    assert len(set(names)) == len(names)
    total = 0
    for name, tensors, meta in cases:
        path = os.path.join(out_dir, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        size = os.path.getsize(path)
        total += size
        flags = " ".join("%s=%s" % (k, v) for k, v in meta.items()
                         if k.endswith(("_agrees", "_1ulp", "_2ulp", "intermediates")))
        print("%-40s %8d bytes  %s" % (name, size, flags))
    print("%d files, %d bytes" % (len(cases), total))


# =================================================================================================
# Self-test
# =================================================================================================

class Check:
    def __init__(self):
        self.failures = 0
        self.passed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures += 1
            print("FAIL:", what)


def _f32_shortest(x):
    """Shortest decimal that round-trips the double value of an f32 (how the doc lists them)."""
    return repr(float(x))


def selftest_arithmetic(check):
    # numpy float32 scalar ops == exactly rounded double ops (double has 53 >= 2*24+2 bits, so
    # rounding a double result of +,-,*,/ to f32 is the correctly rounded f32 result).
    rng = random.Random(1)
    for _ in range(20000):
        a = F32(normal(rng) * 2.0 ** rng.randint(-20, 20))
        b = F32(normal(rng) * 2.0 ** rng.randint(-20, 20))
        for op, ref in ((fl32_mul, lambda x, y: x * y), (fl32_add, lambda x, y: x + y),
                        (fl32_sub, lambda x, y: x - y), (fl32_div, lambda x, y: x / y)):
            got = op(a, b)
            exp = F32(ref(float(a), float(b)))
            if f32_bits(got) != f32_bits(exp):
                check(False, "f32 op mismatch %r %r" % (a, b))
                return
    check(True, "f32 arithmetic")
    # numpy must not have promoted anything to float64
    check(type(fl32_mul(F32(1.5), F32(2.0))) is np.float32, "float32 result type")

    # bf16 by hand vs exact rational rounding (p=8); f16 via numpy vs exact rounding (p=11).
    samples = [F32(1.0), F32(-2.5), f32_from_bits(0x3F808000), f32_from_bits(0x3F818000),
               f32_from_bits(0x3F808001), f32_from_bits(0x7F7FFFFF), f32_from_bits(0x7F7F8000),
               F32(1.0 + 2.0 ** -11), F32(1.0 + 3 * 2.0 ** -11), F32(65520.0), F32(65519.0),
               F32(2.0 ** -24), F32(3 * 2.0 ** -25), F32(2.0 ** -25), F32(1e-6), F32(0.1)]
    for _ in range(5000):
        samples.append(f32_from_bits(rng.getrandbits(32) & 0xBFFFFFFF))   # no NaN/inf exponents>1
    for x in samples:
        if not math.isfinite(float(x)):
            continue
        bf = float(round_f32_to_bf16(x))
        exp = round_rational(Fraction(float(x)), 8, -126, 127)
        check(bf == exp or (math.isnan(bf) and math.isnan(exp)), "bf16 RNE of %r" % x)
        hf = float(round_f32_to_f16(x))
        exp = round_rational(Fraction(float(x)), 11, -14, 15)
        check(hf == exp, "f16 RNE of %r (%r vs %r)" % (x, hf, exp))
    check(f32_to_bf16_bits(F32(float("nan"))) & 0x7F80 == 0x7F80, "bf16 NaN stays NaN")


def selftest_tables(check):
    # §1.1 NF4: hex decodes to the listed decimal, which also rounds directly to the same f32.
    for code, (h, dec) in enumerate(NF4_TABLE):
        v = NF4_CODE[code]
        check(_f32_shortest(v) == dec, "NF4 code %d: %s != %s" % (code, _f32_shortest(v), dec))
        check(f32_bits(decimal_literal_to_f32(dec)) == int(h, 16), "NF4 literal %d" % code)
    check(all(float(NF4_CODE[i]) < float(NF4_CODE[i + 1]) for i in range(15)), "NF4 sorted")

    # §2 NF4 thresholds: listed f32 value == hex == CUDA literal rounded == fl32(fl32(c+c')/2).
    for k, (lit, val, h) in enumerate(NF4_THRESHOLD_TABLE):
        t = NF4_THRESHOLDS[k]
        check(_f32_shortest(t) == val, "NF4 T[%d] decimal" % k)
        # the doc's column is the literal rounded through a double ...
        check(f32_bits(F32(float(lit))) == int(h, 16), "NF4 T[%d] literal via double" % k)
        # ... while a C/CUDA float literal is rounded once (== what nvcc 13.0 emits in PTX)
        check(f32_bits(decimal_literal_to_f32(lit)) == f32_bits(NF4_THRESHOLDS_NVCC[k]),
              "NF4 T[%d] literal rounded directly == nvcc table" % k)
        check((f32_bits(NF4_THRESHOLDS_NVCC[k]) != int(h, 16)) == (k in (0, 8, 12, 14)),
              "NF4 T[%d]: nvcc and doc differ only for k in {0, 8, 12, 14}" % k)
        mid = fl32_div(fl32_add(NF4_CODE[k], NF4_CODE[k + 1]), F32(2.0))
        check(f32_bits(mid) == int(h, 16), "NF4 T[%d] == fl32(fl32(c[k]+c[k+1])/2)" % k)
    # closed form against a balanced decision tree (x > t => upper subtree), both written here
    def tree(v, lo=0, hi=15):
        if lo == hi:
            return lo
        mid = (lo + hi + 1) // 2                 # threshold between codes mid-1 and mid
        return tree(v, mid, hi) if v > NF4_THRESHOLDS_PY[mid - 1] else tree(v, lo, mid - 1)
    probe = []
    for t in NF4_THRESHOLDS:
        probe += [t, next_up(t), next_down(t)]
    probe += NF4_CODE + [F32(-2.0), F32(2.0), F32(float("nan")), F32(-0.0)]
    for v in probe:
        check(tree(float(v)) == nf4_encode(v), "NF4 tree vs closed form at %r" % v)
    check(nf4_encode(F32(float("nan"))) == 0, "NF4 NaN -> 0")
    check(nf4_encode(NF4_THRESHOLDS[6]) == 6 and nf4_encode(NF4_THRESHOLDS[0]) == 0,
          "NF4 ties go to the lower code")

    # §1.2 FP4: /12 table == fl32(raw/12) == the CUDA LUT literals; thresholds decode.
    for i in range(8):
        check(f32_bits(fl32_div(F32(FP4_RAW[i]), F32(12.0))) == int(FP4_MAG_HEX[i], 16), "FP4 /12 %d" % i)
        check(f32_bits(decimal_literal_to_f32(FP4_LUT_LITERALS[i])) == int(FP4_MAG_HEX[i], 16),
              "FP4 LUT literal %d" % i)
    check(f32_bits(FP4_CODE[8]) == 0x80000000, "FP4 code 8 dequantizes to -0.0")
    for lit, h in FP4_THRESHOLD_TABLE:
        check(f32_bits(decimal_literal_to_f32(lit)) == int(h, 16), "FP4 TF literal " + lit)
    mags = sorted(float(m) for m in FP4_MAG)
    # The doc says 5 of 7 literals differ from the f32 midpoints "by 1-2 ulp"; the count is right
    # but TF[0] is 14 ulp and TF[5] 6 ulp away (doc erratum; only the literals are used anyway).
    ulps = []
    for k in range(7):
        mid = fl32_mul(fl32_add(F32(mags[k]), F32(mags[k + 1])), F32(0.5))
        ulps.append(f32_bits(FP4_THRESHOLDS[k]) - f32_bits(mid))
    check(ulps == [14, 0, -1, -1, 0, -6, -1], "FP4 TF - midpoint in ulp: %s" % ulps)
    check(sum(1 for d in ulps if d) == 5, "5 of 7 FP4 literals differ from the f32 midpoints")
    # rank table maps ranks to increasing magnitudes
    check([float(FP4_MAG[b]) for b in FP4_RANK_TO_BITS] == mags, "FP4 rank table order")
    check(fp4_encode(F32(-0.0)) == 0 and fp4_encode(F32(float("nan"))) == 0, "FP4 -0/NaN -> 0")
    check(fp4_encode(FP4_THRESHOLDS[3]) == 0b111 and fp4_encode(next_up(FP4_THRESHOLDS[3])) == 0b100,
          "FP4 magnitude tie goes to the smaller magnitude")

    # §1.3 / Appendix A
    dm = DYNAMIC_MAP
    check(len(dm) == 256, "dynamic map has 256 entries")
    check(f32_bits(dm[0]) == 0xBF7E3333 and f32_bits(F32(-0.99296875)) == 0xBF7E3333,
          "code[0] = BF7E3333 (the f32 nearest -0.99296875)")
    check(f32_bits(dm[127]) == 0 and float(dm[255]) == 1.0, "code[127] = 0, code[255] = 1.0")
    check(all(float(dm[i]) < float(dm[i + 1]) for i in range(255)), "dynamic map ascending")
    smallest = min(abs(float(v)) for v in dm if float(v) != 0.0)
    check(str(F32(smallest)) == "5.5000004e-07", "smallest |code| = 5.5000004e-7")

    # Informational cross-check of Appendix A against the generator of §1.3 with an FMA linspace
    # (the doc says FMA reproduces the table and the plain version differs in 42 entries).
    def linspace(start, end, steps, fma):
        start, end = F32(start), F32(end)
        step = fl32_div(fl32_sub(end, start), F32(steps - 1))
        out = []
        for i in range(steps):
            if i < steps // 2:
                if fma:
                    out.append(rational_to_f32(Fraction(float(start)) + Fraction(float(step)) * i))
                else:
                    out.append(fl32_add(start, fl32_mul(step, F32(i))))
            else:
                j = steps - 1 - i
                if fma:
                    out.append(rational_to_f32(Fraction(float(end)) - Fraction(float(step)) * j))
                else:
                    out.append(fl32_sub(end, fl32_mul(step, F32(j))))
        return out

    def gen_map(fma):
        data = []
        for i in range(7):
            b = linspace(0.1, 1.0, 2 ** i + 1, fma)
            means = [fl32_div(fl32_add(b[k], b[k + 1]), F32(2.0)) for k in range(len(b) - 1)]
            s = F32(10.0 ** (i - 6))
            data += [fl32_mul(s, m) for m in means]
            data += [-fl32_mul(s, m) for m in means]
        data += [F32(0.0), F32(1.0)]
        return sorted(data, key=float)
    g_fma, g_plain = gen_map(True), gen_map(False)
    check([f32_bits(v) for v in g_fma] == [f32_bits(v) for v in dm],
          "Appendix A == generator with FMA linspace")
    ndiff = sum(1 for a, b in zip(g_plain, dm) if f32_bits(a) != f32_bits(b))
    check(ndiff == 42, "plain linspace differs in 42 entries (got %d)" % ndiff)

    # Informational: NF4 table from create_normal_map (§1.1) with statistics.NormalDist.
    try:
        from statistics import NormalDist
        nd = NormalDist()
        p_pos = linspace(0.9677083, 0.5, 9, True)[:-1]
        p_neg = linspace(0.9677083, 0.5, 8, True)[:-1]
        v1 = [F32(nd.inv_cdf(float(p))) for p in p_pos]
        v3 = [F32(-nd.inv_cdf(float(p))) for p in p_neg]
        vals = sorted(v1 + v3 + [F32(0.0)], key=float)
        vmax = max(vals, key=float)
        norm = [fl32_div(v, vmax) for v in vals]
        check([f32_bits(v) for v in norm] == [f32_bits(v) for v in NF4_CODE],
              "NF4 table == create_normal_map (NormalDist)")
    except ImportError:
        pass

    # §4 dynamic encode: closed form vs the bisection the doc describes.
    probe = list(DYNAMIC_MIDPOINTS) + list(DYNAMIC_MAP)
    for m in DYNAMIC_MIDPOINTS:
        probe += [next_up(m), next_down(m)]
    probe += [F32(-1.0), F32(-2.0), F32(1.5), F32(INF), F32(-INF), F32(float("nan")), F32(-0.0)]
    rng = random.Random(2)
    for _ in range(20000):
        probe.append(F32((2 * rng.random() - 1) * 10.0 ** rng.uniform(-7, 0)))
    bad = [v for v in probe if dynamic_encode(v) != dynamic_encode_search(v)]
    check(not bad, "dynamic encode closed form == bisection (%d mismatches)" % len(bad))
    evens = [dynamic_encode(m) for m in DYNAMIC_MIDPOINTS]
    check(all(c % 2 == 0 for c in evens), "every midpoint tie goes to the even index")
    check(sum(1 for k, c in enumerate(evens) if c != k) == 127,
          "127 of 255 midpoints differ from ties-to-lower")
    check(dynamic_encode(F32(float("nan"))) == 0 and dynamic_encode(F32(-1.0)) == 0
          and dynamic_encode(F32(2.0)) == 255, "dynamic NaN -> 0, clamp")

    # §7 constant
    check(f32_bits(INT8_DEQUANT_SCALE) == f32_bits(F32(1.0 / 127.0)),
          "f32(7.874015718698502e-3) == f32(1/127)")


def selftest_semantics(check):
    # zero block (§2): NF4 bytes 0x00 and dequant -0.0; FP4 bytes 0x00 and +0.0
    for qt, expect_bits in (("nf4", 0x80000000), ("fp4", 0x00000000)):
        codes, absmax, pad = quantize_4bit([F32(0.0)] * 5, 64, qt)
        packed = pack_nibbles(codes, pad)
        check(packed == [0, 0, 0] and float(absmax[0]) == 0.0, qt + " zero block packs to 0x00")
        deq = dequantize_4bit(packed, absmax, 5, 64, qt, "F32")
        check(all(f32_bits(v) == expect_bits for v in deq), qt + " zero block dequant sign")
    # odd n, nonzero tail: pad nibble is code(0) = 7 (NF4) / 0 (FP4)
    codes, _, pad = quantize_4bit([F32(1.0), F32(-0.5), F32(0.25)], 64, "nf4")
    check(pad == 7 and pack_nibbles(codes, pad)[-1] & 0xF == 7, "NF4 pad nibble 7")
    _, _, pad = quantize_4bit([F32(1.0), F32(-0.5), F32(0.25)], 64, "fp4")
    check(pad == 0, "FP4 pad nibble 0")
    # element 2j in the high nibble
    codes, _, pad = quantize_4bit([F32(-1.0), F32(1.0)], 64, "nf4")
    check(pack_nibbles(codes, pad) == [0x0F], "high nibble holds element 0")
    # inf in a block: codes 0 for +-inf, 7 for finite (NF4)
    codes, absmax, _ = quantize_4bit([F32(INF), F32(0.3), F32(-0.3), F32(float("nan"))], 64, "nf4")
    check(codes == [0, 7, 7, 0] and math.isinf(float(absmax[0])), "inf block rule")
    # §6 footprint: 4096x4096 NF4 + DQ, bs 64
    n = 4096 * 4096
    b_dq = storage_bytes_4bit(n, 64, True)
    b_nodq = storage_bytes_4bit(n, 64, False)
    check(b_dq == 8655936, "4096^2 NF4+DQ bs64 = 8,655,936 bytes (got %d)" % b_dq)
    check("%.6f" % (8 * b_dq / n) == "4.127472", "4.127472 bits/param (%.9f)" % (8 * b_dq / n))
    check(b_nodq == 9437248 and "%.6f" % (8 * b_nodq / n) == "4.500031", "4.500031 bits/param no DQ")
    for bs, nodq, dq in ((64, "4.5", "4.126953"), (128, "4.25", "4.063477"), (256, "4.125", "4.031738")):
        check(str(4 + 32 / bs) == nodq and "%.6f" % (4 + 8 / bs + 32 / (256 * bs)) == dq,
              "asymptotic bits/param bs %d" % bs)
    # int8: zero row, tie
    cb, scb = int8_rowwise_quant([[F32(0.0), F32(-0.0)], [F32(127.0), F32(0.5)], [F32(127.0), F32(1.5)]])
    check(cb == [[0, 0], [127, 0], [127, 2]] and float(scb[0]) == 0.0, "int8 zero row and ties")
    # offset: exact mean agrees with fsum on an awkward input
    check(float(offset_mean([F32(1e30), F32(1.0), F32(-1e30)])) == float(F32(1.0 / 3.0)), "exact mean")


# -------------------------------------------------------------------------------------------------
# A second, vectorised implementation (numpy f32 arrays, searchsorted), used only to cross-check the
# scalar one on the stored files: different code path, same rules.
# -------------------------------------------------------------------------------------------------

def _vec_codes_4bit(s, qt):
    if qt == "nf4":
        codes = np.searchsorted(np.array(NF4_THRESHOLDS, "f4"), s, side="left")  # #{T < s}
        codes[np.isnan(s)] = 0
        return codes
    m = np.abs(s)
    rank = np.searchsorted(np.array(FP4_THRESHOLDS, "f4"), m, side="left")
    rank[np.isnan(m)] = 0
    return np.array(FP4_RANK_TO_BITS)[rank] | np.where(s < 0, 8, 0)


def _vec_round_dtype(v, dtype):
    if dtype == "F32":
        return v
    if dtype == "F16":
        return v.astype("f2").astype("f4")
    u = v.view("u4").astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    out = (r & 0xFFFFFFFF).astype("u4").view("f4")
    return np.where(np.isnan(v), v, out)


def _vec_dynamic(s):
    mids = np.array(DYNAMIC_MIDPOINTS, "f4")
    lower = np.searchsorted(mids, s, side="left")
    tie = (lower < 255) & (mids[np.minimum(lower, 254)] == s)
    q = np.where(tie & (lower % 2 == 1), lower + 1, lower)
    q[np.isnan(s)] = 0
    return q


def _vec_check_4bit(check, f, meta, arrays, dtypes):
    qt, bs, dt = meta["quant_type"], int(meta["blocksize"]), meta["input_dtype"]
    x = np.array([float(v) for v in input_values_from_array(arrays["input"], dtypes["input"])], "f4")
    n = x.size
    nb = -(-n // bs)
    blocks = np.zeros(nb * bs, "f4")
    blocks[:n] = x
    blocks = blocks.reshape(nb, bs)
    absmax = np.nanmax(np.abs(blocks), axis=1).astype("f4")
    inv = np.float32(1.0) / absmax
    codes = _vec_codes_4bit(blocks * inv[:, None], qt).reshape(-1)[:n + (n % 2)]
    packed = ((codes[0::2] << 4) | codes[1::2]).astype("u1")
    check(packed.tobytes() == arrays["packed"].tobytes(), f + ": vectorised packed")
    check(absmax.tobytes() == arrays["absmax"].tobytes(), f + ": vectorised absmax")
    lut = np.array(lut_4bit(qt), "f4")

    def deq(am):
        v = _vec_round_dtype(lut[codes[:n]] * np.repeat(am, bs)[:n], dt)
        return np.where(np.isnan(v), np.float32("nan"), v)
    same = lambda a, b: np.array_equal(a.view("u4"), b.view("u4"))
    check(same(deq(absmax), f32_array(list(arrays["dequant"]))), f + ": vectorised dequant")
    if meta["double_quant"] == "true":
        offset = np.float32(math.fsum(float(a) for a in absmax) / nb)
        check(offset == arrays["offset"][0], f + ": vectorised offset")
        c = absmax - offset
        nb2 = -(-nb // 256)
        cb = np.zeros(nb2 * 256, "f4")
        cb[:nb] = c
        cb = cb.reshape(nb2, 256)
        absmax2 = np.max(np.abs(cb), axis=1).astype("f4")
        q2 = _vec_dynamic(cb * (np.float32(1.0) / absmax2)[:, None]).reshape(-1)[:nb]
        check(np.array_equal(q2, arrays["qabsmax"]), f + ": vectorised qabsmax")
        check(absmax2.tobytes() == arrays["nested_absmax"].tobytes(), f + ": vectorised nested_absmax")
        am_dq = np.array(DYNAMIC_MAP, "f4")[q2] * np.repeat(absmax2, 256)[:nb] + offset
        check(am_dq.astype("f4").tobytes() == arrays["absmax_dq"].tobytes(), f + ": vectorised absmax_dq")
        check(same(deq(am_dq.astype("f4")), f32_array(list(arrays["dequant_dq"]))),
              f + ": vectorised dequant_dq")


def _vec_check_int8(check, f, arrays, dtypes):
    flat = input_values_from_array(arrays["input"], dtypes["input"])
    x = np.array([float(v) for v in flat], "f4").reshape(arrays["input"].shape)
    b = x.astype("f2").astype("f4")
    scb = np.max(np.abs(b), axis=1).astype("f4")
    p = b * (np.float32(127.0) / scb)[:, None]
    cb = np.clip(np.rint(np.where(np.isnan(p), 0, p)), -128, 127).astype("i1")
    check(np.array_equal(cb, arrays["cb"]) and scb.tobytes() == arrays["scb"].tobytes(),
          f + ": vectorised int8")
    deq = (cb.astype("f4") * scb[:, None]) * INT8_DEQUANT_SCALE
    check(deq.astype("f4").tobytes() == arrays["dequant"].tobytes(), f + ": vectorised int8 dequant")


def selftest_files(check, out_dir):
    files = sorted(f for f in os.listdir(out_dir) if f.endswith(".safetensors"))
    check(len(files) > 0, "vector files present in " + out_dir)
    expected = {name: (t, m) for name, t, m in all_cases()} if files else {}
    for f in files:
        path = os.path.join(out_dir, f)
        name = f[:-len(".safetensors")]
        meta, arrays, dtypes = read_safetensors(path)
        qt = meta["quant_type"]
        # Recompute from the stored input alone, with the stored metadata.
        if qt in ("nf4", "fp4"):
            xs = input_values_from_array(arrays["input"], dtypes["input"])
            tensors, m2, _ = build_4bit_case(qt, int(meta["blocksize"]), meta["input_dtype"],
                                             list(arrays["input"].shape), xs,
                                             meta["double_quant"] == "true", meta["description"])
            need = {"input", "packed", "absmax", "dequant"}
            if "packed_nvcc" in arrays:
                need.add("packed_nvcc")
            if meta["double_quant"] == "true":
                need |= {"qabsmax", "nested_absmax", "offset", "absmax_dq", "dequant_dq"}
            check(set(arrays) == need, f + ": tensor names")
            _vec_check_4bit(check, f, meta, arrays, dtypes)
        elif qt == "int8":
            flat = input_values_from_array(arrays["input"], dtypes["input"])
            r_, c_ = arrays["input"].shape
            rows = [flat[r * c_:(r + 1) * c_] for r in range(r_)]
            tensors, m2, _ = build_int8_case(meta["input_dtype"], rows, meta["description"],
                                             check_robust=False)
            _vec_check_int8(check, f, arrays, dtypes)
        elif qt == "dynamic8":
            tensors = case_dynamic_map_ties()[1]
            got = [dynamic_encode(F32(v)) for v in arrays["input"]]
            check(got == list(arrays["codes"]), f + ": re-encode")
        else:
            check(False, f + ": unknown quant_type")
            continue
        for tname, tdtype, tshape, tarr in tensors:
            ok = (tname in arrays and dtypes[tname] == tdtype and list(arrays[tname].shape) == tshape
                  and np.ascontiguousarray(arrays[tname]).tobytes() ==
                  np.ascontiguousarray(tarr, dtype=_ST_NUMPY[tdtype]).tobytes())
            check(ok, "%s: tensor %s recomputes identically" % (f, tname))
        # and the file is byte-identical to what the generator would write now
        if name in expected:
            tmp = path + ".selftest.tmp"
            write_safetensors(tmp, expected[name][0], expected[name][1])
            with open(tmp, "rb") as a, open(path, "rb") as b:
                check(a.read() == b.read(), f + ": byte-identical regeneration")
            os.remove(tmp)
        else:
            check(False, f + ": not produced by the generator")
    missing = set(expected) - {f[:-len(".safetensors")] for f in files}
    check(not missing, "all generated cases present (%s missing)" % sorted(missing))
    return len(files)


def selftest(out_dir):
    check = Check()
    selftest_arithmetic(check)
    selftest_tables(check)
    selftest_semantics(check)
    nfiles = 0
    if out_dir and os.path.isdir(out_dir):
        nfiles = selftest_files(check, out_dir)
    else:
        print("note: no vector directory at %s, file checks skipped" % out_dir)
    print("selftest: %d checks passed, %d failed, %d files read back" %
          (check.passed, check.failures, nfiles))
    return check.failures == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="directory for the vector files")
    ap.add_argument("--selftest", action="store_true", help="run the self-test (and read back --out)")
    args = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "src", "test", "resources", "bnb"))
    if args.selftest:
        return 0 if selftest(args.out or default_out) else 1
    if not args.out:
        ap.error("--out DIR or --selftest is required")
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
