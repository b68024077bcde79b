package metawire.dubbo;

import java.lang.reflect.Method;
import org.apache.dubbo.rpc.RpcContext;

/**
 * RpcContext attachments the same way on Dubbo 2.7 and 3.x. Dubbo 3 split the 2.7 contexts into
 * client/server attachment objects (the 2.7 calls still compile there but are deprecated); each
 * accessor takes the 3.x method when it exists, else the 2.7 one.
 */
final class Contexts {
    private Contexts() {
    }

    private static RpcContext context(String dubbo3, String dubbo27) {
        try {
            Method m;
            try {
                m = RpcContext.class.getMethod(dubbo3);
            } catch (NoSuchMethodException e) {
                m = RpcContext.class.getMethod(dubbo27);
            }
            return (RpcContext) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Consumer: an attachment of the next call. */
    static void setRequestAttachment(String key, String value) {
        context("getClientAttachment", "getContext").setAttachment(key, value);
    }

    /**
     * Consumer: no more attachment `key` on the next calls (Dubbo 2.7 keeps a request attachment for
     * the following calls after a one-way call).
     */
    static void removeRequestAttachment(String key) {
        context("getClientAttachment", "getContext").removeAttachment(key);
    }

    /** Provider: an attachment of the request being served. */
    static String requestAttachment(String key) {
        return context("getServerAttachment", "getContext").getAttachment(key);
    }

    /** Provider: an attachment of the reply to the request being served. */
    static void setReplyAttachment(String key, String value) {
        context("getServerResponseContext", "getServerContext").setAttachment(key, value);
    }

    /** Consumer: an attachment of the reply to the last call. */
    static String replyAttachment(String key) {
        return context("getClientResponseContext", "getServerContext").getAttachment(key);
    }
}
