package cloud.dementia.db.search;

import java.nio.ByteBuffer;

/**
 * How a vector is stored: {@code bytea} of float32 values, big-endian (what PostgreSQL's {@code float4send} writes),
 * 1,536 bytes for 384 dimensions. Stored and cached at unit length, so a dot product is the cosine.
 */
public final class Vectors {

    private Vectors() {
    }

    /** @return the vector scaled to unit length, as stored */
    public static byte[] encode(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        float scale = norm == 0 ? 0 : (float) (1 / Math.sqrt(norm));
        ByteBuffer out = ByteBuffer.allocate(v.length * Float.BYTES);
        for (float x : v) {
            out.putFloat(x * scale);
        }
        return out.array();
    }

    /** Reads a stored vector into {@code into} from {@code offset}; @return its dimensions */
    public static int decodeInto(byte[] stored, float[] into, int offset) {
        ByteBuffer in = ByteBuffer.wrap(stored);
        int n = stored.length / Float.BYTES;
        for (int i = 0; i < n; i++) {
            into[offset + i] = in.getFloat();
        }
        return n;
    }

    /** @return the stored vector */
    public static float[] decode(byte[] stored) {
        float[] v = new float[stored.length / Float.BYTES];
        decodeInto(stored, v, 0);
        return v;
    }

    /** @return the vector at unit length (a copy) */
    public static float[] unit(float[] v) {
        return decode(encode(v));
    }
}
