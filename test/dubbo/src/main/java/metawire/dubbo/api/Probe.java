package metawire.dubbo.api;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The service metawire's Dubbo end-to-end tests call through the proxy: one method per kind of
 * Hessian2 value and per kind of Dubbo reply (value, null, declared exception, undeclared exception,
 * large bodies, asynchronous replies, one-way requests, attachments in both directions).
 */
public interface Probe {
    String echo(String text);

    long add(int a, long b);

    /** Every primitive parameter type (the request's descriptor is "BSIJFDZC"). */
    String primitives(byte b, short s, int i, long l, float f, double d, boolean z, char c);

    List<String> reverse(List<String> items);

    /** Word → number of occurrences. */
    Map<String, Integer> count(List<String> words);

    /** A copy of the person, one level up, with a new tag and score and an extra past address. */
    Person promote(Person person, Level to);

    /** Known names return a Person; "ghost" throws the declared NotFoundException. */
    Person find(String name) throws NotFoundException;

    /** Throws an exception the interface does not declare. */
    String boom(String why);

    /** Always returns null. */
    String nothing(String why);

    String echoText(String text);

    byte[] echoBytes(byte[] data);

    /** Completes `tag` after `ms` milliseconds, without holding a provider thread: replies leave out of order. */
    CompletableFuture<String> delayed(int ms, String tag);

    /** Called one-way by the consumer (no reply). */
    void record(String what);

    /** The records so far, sorted, once there are at least `atLeast` of them (or after 5 s), and forgets them. */
    List<String> takeRecords(int atLeast);

    /**
     * The request attachments named in `keys` as the provider received them (missing ones absent);
     * the reply carries the attachment "x-served-by".
     */
    Map<String, String> context(List<String> keys);

    /**
     * How many times each method of the provider ran so far, every export and instance together
     * (this call not counted): what a test checks to tell that a request never reached the service.
     */
    Map<String, Integer> invocations();
}
