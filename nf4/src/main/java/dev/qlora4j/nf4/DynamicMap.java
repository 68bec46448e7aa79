package dev.qlora4j.nf4;

/**
 * bitsandbytes' signed 8-bit dynamic map, used to quantize the absmax values in double
 * quantization: 256 f32 values (exact patterns, as torch's FMA-contracted linspace produces them),
 * and the CUDA kernel's encoder: the nearest code by f32 midpoints, an exact tie going to the even
 * index of the two (the binary search's last pivot is always even), NaN to code 0, values outside
 * the map clamping to its ends.
 */
public final class DynamicMap {
    private static final float[] CODE = decode(
            "BF7E3333 BF7A999A BF770000 BF736666 BF6FCCCD BF6C3333 BF68999A BF650000 "
            + "BF616666 BF5DCCCD BF5A3333 BF56999A BF530000 BF4F6666 BF4BCCCD BF483333 "
            + "BF44999A BF410000 BF3D6666 BF39CCCD BF363334 BF32999A BF2F0000 BF2B6666 "
            + "BF27CCCD BF243334 BF20999A BF1D0000 BF196666 BF15CCCD BF123334 BF0E999A "
            + "BF0B0000 BF076666 BF03CCCC BF003333 BEF93332 BEF20000 BEEACCCC BEE3999A "
            + "BEDC6666 BED53333 BECE0000 BEC6CCCC BEBF999A BEB86666 BEB13333 BEAA0000 "
            + "BEA2CCCC BE9B999A BE946666 BE8D3334 BE860000 BE7D9999 BE6F3333 BE60CCCD "
            + "BE526666 BE440000 BE35999A BE273333 BE18CCCD BE0A6666 BDF80000 BDDB3334 "
            + "BDC9EB85 BDC428F7 BDBE6667 BDB8A3D7 BDB2E148 BDAD1EB8 BDA75C2A BDA1999A "
            + "BD9BD70A BD96147B BD9051EB BD8A8F5D BD84CCCD BD7E147B BD728F5D BD670A3D "
            + "BD5B851F BD500000 BD447AE1 BD38F5C3 BD2D70A3 BD21EB85 BD166667 BD0AE148 "
            + "BCFEB852 BCE7AE15 BCD0A3D7 BCB9999A BCA28F5D BC8B851F BC68F5C3 BC3AE148 "
            + "BC1F3B64 BC160418 BC0CCCCD BC039581 BBF4BC6A BBE24DD3 BBCFDF3B BBBD70A4 "
            + "BBAB020D BB989374 BB8624DD BB676C8A BB428F5C BB1DB22D BAF1A9FC BAA7EF9D "
            + "BA7765FF BA59E83E BA3C6A80 BA1EECC1 BA016F01 B9C7E283 B98CE705 B923D70B "
            + "B8BA1F4B B88AEFB3 B8378034 B7B24206 B70205FF B65A1A94 B513A3B7 00000000 "
            + "3513A3B7 365A1A94 370205FF 37B24206 38378034 388AEFB3 38BA1F4B 3923D70B "
            + "398CE705 39C7E283 3A016F01 3A1EECC1 3A3C6A80 3A59E83E 3A7765FF 3AA7EF9D "
            + "3AF1A9FC 3B1DB22D 3B428F5C 3B676C8A 3B8624DD 3B989374 3BAB020D 3BBD70A4 "
            + "3BCFDF3B 3BE24DD3 3BF4BC6A 3C039581 3C0CCCCD 3C160418 3C1F3B64 3C3AE148 "
            + "3C68F5C3 3C8B851F 3CA28F5D 3CB9999A 3CD0A3D7 3CE7AE15 3CFEB852 3D0AE148 "
            + "3D166667 3D21EB85 3D2D70A3 3D38F5C3 3D447AE1 3D500000 3D5B851F 3D670A3D "
            + "3D728F5D 3D7E147B 3D84CCCD 3D8A8F5D 3D9051EB 3D96147B 3D9BD70A 3DA1999A "
            + "3DA75C2A 3DAD1EB8 3DB2E148 3DB8A3D7 3DBE6667 3DC428F7 3DC9EB85 3DDB3334 "
            + "3DF80000 3E0A6666 3E18CCCD 3E273333 3E35999A 3E440000 3E526666 3E60CCCD "
            + "3E6F3333 3E7D9999 3E860000 3E8D3334 3E946666 3E9B999A 3EA2CCCC 3EAA0000 "
            + "3EB13333 3EB86666 3EBF999A 3EC6CCCC 3ECE0000 3ED53333 3EDC6666 3EE3999A "
            + "3EEACCCC 3EF20000 3EF93332 3F003333 3F03CCCC 3F076666 3F0B0000 3F0E999A "
            + "3F123334 3F15CCCD 3F196666 3F1D0000 3F20999A 3F243334 3F27CCCD 3F2B6666 "
            + "3F2F0000 3F32999A 3F363334 3F39CCCD 3F3D6666 3F410000 3F44999A 3F483333 "
            + "3F4BCCCD 3F4F6666 3F530000 3F56999A 3F5A3333 3F5DCCCD 3F616666 3F650000 "
            + "3F68999A 3F6C3333 3F6FCCCD 3F736666 3F770000 3F7A999A 3F7E3333 3F800000");

    /** MID[k] = fl32(fl32(code[k] + code[k+1]) * 0.5), the decision boundary between k and k+1. */
    private static final float[] MID = new float[255];

    static {
        for (int k = 0; k < 255; k++) {
            MID[k] = (CODE[k] + CODE[k + 1]) * 0.5f;
        }
    }

    private DynamicMap() {
    }

    private static float[] decode(String hex) {
        String[] words = hex.trim().split(" +");
        float[] f = new float[words.length];
        for (int i = 0; i < words.length; i++) {
            f[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(words[i], 16));
        }
        return f;
    }

    /** A copy of the 256 values, indexed by code. */
    public static float[] values() {
        return CODE.clone();
    }

    /** The dequantization value of {@code code} (0 to 255); code 127 is 0. */
    public static float value(int code) {
        return CODE[code];
    }

    /** The code of s, a value already scaled into [-1, 1] by its block's absmax. */
    public static int encode(float s) {
        if (Float.isNaN(s)) {
            return 0;
        }
        // Largest k with MID[k] < s (binary search); the code is then k+1, or k on an exact tie.
        int lo = 0;
        int hi = 255; // number of midpoints strictly below s lies in [lo, hi]
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (MID[mid] < s) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int below = lo; // count of midpoints < s: the nearest code when no tie
        if (below < 255 && MID[below] == s) {
            // s sits exactly on the boundary between codes below and below+1: take the even one.
            return (below & 1) == 0 ? below : below + 1;
        }
        return below;
    }
}
