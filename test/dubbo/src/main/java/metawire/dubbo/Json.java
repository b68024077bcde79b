package metawire.dubbo;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Date;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small JSON writer for the consumer's result lines (no JSON library is common to every Dubbo
 * version). Maps are written with sorted keys and objects with their public fields sorted by name, so
 * equal values always give equal text.
 */
final class Json {
    private Json() {
    }

    static String of(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v);
        return sb.toString();
    }

    /** A JSON object from alternating keys and values. */
    static String obj(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!first) sb.append(',');
            first = false;
            str(sb, e.getKey());
            sb.append(':');
            write(sb, e.getValue());
        }
        return sb.append('}').toString();
    }

    /** A map (kept in order) from alternating keys and values. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** A stand-in for a large value: its size and SHA-256. */
    static Map<String, Object> digest(byte[] data) {
        Map<String, Object> m = new TreeMap<>();
        m.put("bytes", data.length);
        m.put("sha256", sha256(data));
        return m;
    }

    static Map<String, Object> digest(String text) {
        Map<String, Object> m = digest(text.getBytes(StandardCharsets.UTF_8));
        m.put("chars", text.length());
        return m;
    }

    static String sha256(byte[] data) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(data);
            StringBuilder sb = new StringBuilder();
            for (byte b : h) sb.append(String.format("%02x", b));
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String) {
            str(sb, (String) v);
        } else if (v instanceof Character || v instanceof Enum) {
            str(sb, v instanceof Enum ? ((Enum<?>) v).name() : v.toString());
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
                || v instanceof Byte || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            str(sb, v.toString());   // as text: no JSON number rounding questions
        } else if (v instanceof BigDecimal) {
            str(sb, ((BigDecimal) v).toPlainString());
        } else if (v instanceof Date) {
            sb.append("{\"date\":").append(((Date) v).getTime()).append('}');
        } else if (v instanceof byte[]) {
            write(sb, digest((byte[]) v));
        } else if (v instanceof Map) {
            Map<String, Object> sorted = new TreeMap<>();
            for (Map.Entry<Object, Object> e : ((Map<Object, Object>) v).entrySet()) sorted.put(String.valueOf(e.getKey()), e.getValue());
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : sorted.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                str(sb, e.getKey());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Collection) {
            sb.append('[');
            boolean first = true;
            for (Object o : (Collection<Object>) v) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (v.getClass().isArray()) {
            sb.append('[');
            for (int i = 0, n = Array.getLength(v); i < n; i++) {
                if (i > 0) sb.append(',');
                write(sb, Array.get(v, i));
            }
            sb.append(']');
        } else if (v instanceof Throwable) {
            Throwable t = (Throwable) v;
            sb.append("{\"class\":");
            str(sb, t.getClass().getName());
            sb.append(",\"message\":");
            String msg = t.getMessage();
            str(sb, msg == null ? "" : msg.split("\n", 2)[0]);
            sb.append('}');
        } else {
            Field[] fields = v.getClass().getFields();
            Arrays.sort(fields, Comparator.comparing(Field::getName));
            sb.append("{\"@class\":");
            str(sb, v.getClass().getName());
            for (Field f : fields) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                sb.append(',');
                str(sb, f.getName());
                sb.append(':');
                try {
                    write(sb, f.get(v));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
            sb.append('}');
        }
    }

    private static void str(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        sb.append('"');
    }
}
