package metawire.dubbo;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.MethodConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.rpc.RpcException;
import org.apache.dubbo.rpc.service.EchoService;
import org.apache.dubbo.rpc.service.GenericService;
import metawire.dubbo.api.Address;
import metawire.dubbo.api.Level;
import metawire.dubbo.api.NotFoundException;
import metawire.dubbo.api.Person;
import metawire.dubbo.api.Probe;

/**
 * Runs a fixed workload against a Probe provider at dubbo://HOST:PORT (direct URL, no registry,
 * hessian2, heartbeat every second) and prints one JSON line per call on stdout (one for the whole
 * concurrent batch), then a summary line with the number of calls by outcome, and exits. Every
 * reference shares one TCP connection (Dubbo's default for one address).
 *
 *   java -Djdk.net.hosts.file=FILE -cp ... metawire.dubbo.Consumer HOST:PORT IDLE_MS
 *
 * HOST: a name for 127.0.0.1 from the hosts file FILE (see Provider for why not 127.0.0.1 itself).
 * Each call line: {"step", "outcome": ok | error (the service threw: a reply with an exception) |
 * exception (the framework failed: a reply status other than OK) | oneway, "result" or "error"}.
 * Fields that legitimately differ between two runs are listed in the summary's "volatile" field.
 * IDLE_MS: how long the connection stays idle before the last call (heartbeats flow meanwhile).
 *
 *   java ... metawire.dubbo.Consumer HOST:PORT policy
 *
 * runs instead the workload of the policy tests (test/e2e/dubbo-policy.test.ts; see runPolicy),
 * describing each failure in full: class, RpcException code, message and causes.
 */
public final class Consumer {
    private static final String[] VOLATILE = {"elapsed_ms", "completion"};
    private static final int HEARTBEAT_MS = 1000;

    private final PrintStream out;
    private final Map<String, Integer> tally = new LinkedHashMap<>();

    private Consumer(PrintStream out) {
        this.out = out;
        for (String k : new String[] {"ok", "error", "exception", "oneway"}) tally.put(k, 0);
    }

    public static void main(String[] args) throws Exception {
        Quiet.logging();
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
        System.setOut(System.err);   // stdout carries the JSON lines only
        int code = 0;
        try {
            if ("policy".equals(args[1])) new Consumer(out).runPolicy(args[0]);
            else new Consumer(out).run(args[0], Integer.parseInt(args[1]));
        } catch (Throwable t) {
            t.printStackTrace();
            code = 1;
        }
        out.flush();
        System.exit(code);
    }

    /**
     * A reference to Probe at the address, of the given version in group metawire (null: the export
     * without version and group); the caller sets the interface (the class, or its name for a generic one).
     */
    private static <T> ReferenceConfig<T> reference(ApplicationConfig app, String address, String version) {
        ReferenceConfig<T> ref = new ReferenceConfig<>();
        ref.setApplication(app);
        ref.setRegistry(new RegistryConfig(RegistryConfig.NO_AVAILABLE));
        ref.setUrl("dubbo://" + address + "/" + Probe.class.getName());
        if (version != null) {
            ref.setVersion(version);
            ref.setGroup(Provider.GROUP);
        }
        ref.setTimeout(20_000);
        ref.setRetries(0);   // a failed call is sent once
        ref.setCheck(false);
        Map<String, String> params = new HashMap<>();
        params.put("heartbeat", String.valueOf(HEARTBEAT_MS));
        params.put("serialization", "hessian2");
        params.put("prefer.serialization", "hessian2");
        ref.setParameters(params);
        return ref;
    }

    private void run(String address, int idleMs) throws Exception {
        long start = System.nanoTime();
        ApplicationConfig app = new ApplicationConfig("metawire-probe-consumer");
        app.setQosEnable(false);

        ReferenceConfig<Probe> main = reference(app, address, Provider.VERSION);
        main.setInterface(Probe.class);
        MethodConfig oneway = new MethodConfig();
        oneway.setName("record");
        oneway.setReturn(false);
        main.setMethods(Collections.singletonList(oneway));
        Probe probe = main.get();

        ReferenceConfig<GenericService> genericRef = reference(app, address, Provider.VERSION);
        genericRef.setInterface(Probe.class.getName());
        genericRef.setGeneric("true");
        GenericService generic = genericRef.get();

        ReferenceConfig<Probe> missingRef = reference(app, address, "9.9.9");   // not exported
        missingRef.setInterface(Probe.class);
        Probe missing = missingRef.get();

        ReferenceConfig<Probe> plainRef = reference(app, address, null);
        plainRef.setInterface(Probe.class);
        Probe plain = plainRef.get();

        call("echo", () -> probe.echo("héllo ✓ wörld \u0000 end 😀"));
        call("echo-empty", () -> probe.echo(""));
        call("add", () -> probe.add(40, 1L << 40));
        call("primitives", () -> probe.primitives((byte) -7, (short) -300, 123456, -(1L << 50), 1.5f, Math.PI, true, 'ß'));
        call("reverse", () -> probe.reverse(Arrays.asList("a", null, "ü", "𝄞", "")));
        call("count", () -> probe.count(Arrays.asList("to", "be", "or", "not", "to", "be")));
        call("promote", () -> probe.promote(samplePerson(), Level.SENIOR));
        call("find", () -> probe.find("ada"));
        call("find-missing", () -> probe.find("ghost"));          // declared exception
        call("boom", () -> probe.boom("undeclared"));             // undeclared exception
        call("nothing", () -> probe.nothing("null please"));      // null value
        call("$echo", () -> ((EchoService) probe).$echo("echo service"));
        call("$invoke", () -> generic.$invoke("echo", new String[] {"java.lang.String"}, new Object[] {"generic ✓"}));
        // no such service: a reply status other than OK (2.7: 70 SERVICE_ERROR; 3.3: 40 BAD_REQUEST, the
        // provider cannot decode the arguments of a service it does not know)
        call("missing-version", () -> missing.echo("anyone?"));
        call("no-version", () -> plain.echo("unversioned"));     // no version, no group ("0.0.0" in the request)

        for (int i = 0; i < 3; i++) {
            final String what = "first " + i;
            oneway("record", () -> probe.record(what));
        }

        byte[] blob = new byte[(1 << 20) + 7];
        long x = 0x5eed;
        for (int i = 0; i < blob.length; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            blob[i] = (byte) (x >>> 56);
        }
        StringBuilder text = new StringBuilder();
        while (text.length() < (1 << 20) + 3) text.append("ü✓ metawire 𝄞 ");
        String bigText = text.toString();
        call("echo-bytes-1MiB", () -> {
            byte[] r = probe.echoBytes(blob);
            return Json.map("intact", Arrays.equals(r, blob), "digest", Json.digest(r));
        });
        call("echo-text-1MiB", () -> {
            String r = probe.echoText(bigText);
            return Json.map("intact", bigText.equals(r), "digest", Json.digest(r));
        });

        batch(probe);

        call("take-records", () -> probe.takeRecords(3 + 4));
        call("context", () -> {
            Contexts.setRequestAttachment("x-tenant", "acme");
            Contexts.setRequestAttachment("x-trace", "span=1;sampled");
            Map<String, String> r = probe.context(Arrays.asList("x-tenant", "x-trace", "x-absent"));
            // the reply carries x-served-by in both releases; Dubbo 2.7.23's consumer does not surface it (null)
            return Json.map("received", r, "reply-attachment", Contexts.replyAttachment("x-served-by"));
        });

        // idle: the client sends heartbeats; then the last request of the connection
        Thread.sleep(idleMs);
        call("context-after-idle", () -> {
            Contexts.setRequestAttachment("x-tenant", "globex");
            Map<String, String> r = probe.context(Collections.singletonList("x-tenant"));
            return Json.map("received", r, "reply-attachment", Contexts.replyAttachment("x-served-by"));
        });

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("summary", true);
        summary.put("dubbo", org.apache.dubbo.common.Version.getVersion());
        summary.putAll(tally);
        summary.put("volatile", Arrays.asList(VOLATILE));
        summary.put("elapsed_ms", (System.nanoTime() - start) / 1_000_000);
        out.println(Json.of(summary));
    }

    /**
     * The workload of test/e2e/dubbo-policy.test.ts, for a proxy whose policies reject some of its
     * calls (the test holds the policies; this side only calls and reports). One connection, one line
     * per step: {"step", "outcome": ok | error | exception, "result" | "error"} where a failure is
     * described by describe() (the rejection's message must be found in it), then "concurrent": 40
     * calls in flight together, then the provider's invocation counts, then a summary line.
     */
    private void runPolicy(String address) throws Exception {
        long start = System.nanoTime();
        ApplicationConfig app = new ApplicationConfig("metawire-policy-consumer");
        app.setQosEnable(false);
        ReferenceConfig<Probe> mainRef = reference(app, address, Provider.VERSION);
        mainRef.setInterface(Probe.class);
        MethodConfig oneway = new MethodConfig();
        oneway.setName("record");
        oneway.setReturn(false);
        mainRef.setMethods(Collections.singletonList(oneway));
        Probe probe = mainRef.get();
        ReferenceConfig<Probe> plainRef = reference(app, address, null);
        plainRef.setInterface(Probe.class);
        Probe plain = plainRef.get();
        ReferenceConfig<Probe> missingRef = reference(app, address, "9.9.9");   // not exported
        missingRef.setInterface(Probe.class);
        Probe missing = missingRef.get();

        policyCall("echo-first", () -> probe.echo("before"));
        policyCall("reverse", () -> probe.reverse(Arrays.asList("a", "b")));
        policyCall("echo-after-denied", () -> probe.echo("after"));
        policyCall("count-in-group", () -> probe.count(Arrays.asList("x", "x")));
        policyCall("count-plain", () -> plain.count(Arrays.asList("x", "x")));
        policyCall("add-versioned", () -> probe.add(1, 2L));
        policyCall("add-plain", () -> plain.add(1, 2L));
        policyCall("missing-version", () -> missing.echo("anyone?"));
        policyCall("context-evil", () -> {
            Contexts.setRequestAttachment("x-tenant", "evil");
            return probe.context(Collections.singletonList("x-tenant"));
        });
        policyCall("context-acme", () -> {
            Contexts.setRequestAttachment("x-tenant", "acme");
            Map<String, String> r = probe.context(Collections.singletonList("x-tenant"));
            Contexts.removeRequestAttachment("x-tenant");
            return r;
        });
        for (int i = 1; i <= 3; i++) {
            final int k = i;
            policyCall("primitives-" + k, () -> probe.primitives((byte) k, (short) 2, 3, 4L, 5f, 6d, true, 'k'));
        }
        oneway("record-kept-1", () -> probe.record("kept 1"));
        oneway("record-dropped", () -> {
            Contexts.setRequestAttachment("x-drop", "yes");
            probe.record("dropped");
            Contexts.removeRequestAttachment("x-drop");
        });
        oneway("record-kept-2", () -> probe.record("kept 2"));
        policyCall("take-records", () -> probe.takeRecords(2));

        // 40 calls in flight together on the shared connection, rejected ones among them
        int n = 40;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        List<Future<Object[]>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int k = i;
            calls.add(pool.submit(() -> {
                gate.await();
                return outcomeInFull(() -> {
                    switch (k % 5) {
                        case 0: return probe.reverse(Arrays.asList("r" + k));
                        case 1: return probe.echo("c" + k);
                        case 2: return plain.count(Arrays.asList("w" + k));
                        case 3: return probe.count(Arrays.asList("g" + k));
                        default: return probe.delayed((n - k) * 5, "d" + k).get(60, TimeUnit.SECONDS);
                    }
                });
            }));
        }
        gate.countDown();
        pool.shutdown();
        if (!pool.awaitTermination(60, TimeUnit.SECONDS)) throw new IllegalStateException("the concurrent calls did not finish");
        List<Object> results = new ArrayList<>();
        for (Future<Object[]> f : calls) {
            Object[] o = f.get();
            tally.merge((String) o[0], 1, Integer::sum);
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("outcome", o[0]);
            line.putAll(asMap(o[1]));
            results.add(line);
        }
        out.println(Json.obj("step", "concurrent", "calls", results));

        policyCall("echo-last", () -> probe.echo("last"));
        policyCall("invocations", () -> plain.invocations());

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("summary", true);
        summary.put("dubbo", org.apache.dubbo.common.Version.getVersion());
        summary.putAll(tally);
        summary.put("volatile", Collections.emptyList());
        summary.put("elapsed_ms", (System.nanoTime() - start) / 1_000_000);
        out.println(Json.of(summary));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    /** {outcome, {"result": value} or {"error": describe(e)}}: ok, error (the service threw), exception (an RpcException). */
    private static Object[] outcomeInFull(Callable<Object> c) {
        try {
            return new Object[] {"ok", Collections.singletonMap("result", c.call())};
        } catch (Throwable t) {
            Throwable e = t;
            while ((e instanceof java.util.concurrent.ExecutionException || e instanceof java.util.concurrent.CompletionException) && e.getCause() != null) {
                e = e.getCause();
            }
            return new Object[] {e instanceof RpcException ? "exception" : "error", Collections.singletonMap("error", describe(e))};
        }
    }

    /** A failure in full: class, RpcException code, whole message, and each cause as "class: message". */
    private static Map<String, Object> describe(Throwable e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class", e.getClass().getName());
        if (e instanceof RpcException) m.put("code", ((RpcException) e).getCode());
        m.put("message", String.valueOf(e.getMessage()));
        List<String> causes = new ArrayList<>();
        for (Throwable c = e.getCause(); c != null && causes.size() < 8; c = c.getCause() == c ? null : c.getCause()) {
            causes.add(c.getClass().getName() + ": " + c.getMessage());
        }
        m.put("causes", causes);
        return m;
    }

    private void policyCall(String step, Callable<Object> c) {
        Object[] o = outcomeInFull(c);
        tally.merge((String) o[0], 1, Integer::sum);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("outcome", o[0]);
        line.putAll(asMap(o[1]));
        out.println(Json.of(line));
    }

    /**
     * Calls sent together: 16 asynchronous delayed() calls whose delays shrink (the provider answers
     * them in reverse order) while 8 threads make synchronous calls and 4 one-way records.
     */
    private void batch(Probe probe) throws Exception {
        int n = 16;
        List<CompletableFuture<String>> delayed = new ArrayList<>();
        List<Integer> completion = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < n; i++) {
            final int k = i;
            CompletableFuture<String> f = probe.delayed((n - i) * 40, "slow " + i);
            f.whenComplete((v, t) -> completion.add(k));
            delayed.add(f);
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Object[]>> sync = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            final int k = i;
            sync.add(pool.submit(() -> outcome(() -> {
                switch (k % 4) {
                    case 0: return probe.echo("sync " + k);
                    case 1: return probe.find(k % 8 == 1 ? "ghost" : "p" + k);
                    case 2: return probe.count(Arrays.asList("x" + k, "y", "x" + k));
                    default: return probe.echoBytes(new byte[k * 100]);
                }
            })));
        }
        for (int i = 0; i < 4; i++) {
            final String what = "batch " + i;
            pool.submit(() -> probe.record(what));
        }
        pool.shutdown();
        if (!pool.awaitTermination(60, TimeUnit.SECONDS)) throw new IllegalStateException("batch did not finish");
        List<Object> results = new ArrayList<>();
        for (Future<Object[]> f : sync) results.add(count(f.get()));
        List<Object> slow = new ArrayList<>();
        for (CompletableFuture<String> f : delayed) slow.add(count(outcome(() -> f.get(60, TimeUnit.SECONDS))));
        tally.merge("oneway", 4, Integer::sum);
        out.println(Json.obj("step", "batch", "sync", results, "delayed", slow, "completion", new ArrayList<>(completion)));
    }

    private Object count(Object[] o) {
        tally.merge((String) o[0], 1, Integer::sum);
        return o[1];
    }

    /** {outcome, JSON-able description}. */
    private static Object[] outcome(Callable<Object> c) {
        try {
            Object r = c.call();
            return new Object[] {"ok", Collections.singletonMap("result", r)};
        } catch (Throwable t) {
            Throwable e = t instanceof java.util.concurrent.ExecutionException && t.getCause() != null ? t.getCause() : t;
            if (e instanceof RpcException) {
                // the message names local and remote ports: only the class and code are comparable
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("class", e.getClass().getName());
                m.put("code", ((RpcException) e).getCode());
                return new Object[] {"exception", Collections.singletonMap("error", m)};
            }
            return new Object[] {"error", Collections.singletonMap("error", e)};
        }
    }

    private void call(String step, Callable<Object> c) {
        Object[] o = outcome(c);
        tally.merge((String) o[0], 1, Integer::sum);
        @SuppressWarnings("unchecked")
        Map<String, Object> line = new LinkedHashMap<>((Map<String, Object>) o[1]);
        String json = Json.obj("step", step, "outcome", o[0]);
        String body = Json.of(line);
        out.println(json.substring(0, json.length() - 1) + "," + body.substring(1));
    }

    private void oneway(String step, Runnable r) {
        r.run();
        tally.merge("oneway", 1, Integer::sum);
        out.println(Json.obj("step", step, "outcome", "oneway"));
    }

    private static Person samplePerson() {
        Address home = new Address("Genève", "1201", 46.2044, 6.1432);
        Person boss = new Person();
        boss.name = "Grace";
        boss.age = 85;
        boss.level = Level.PRINCIPAL;
        boss.home = home;   // the same object again: a Hessian back-reference
        Person p = new Person();
        p.name = "Ada ✓";
        p.age = 36;
        p.level = Level.JUNIOR;
        p.home = home;
        p.past = new ArrayList<>(Arrays.asList(new Address("London", "W1", 51.5072, -0.1276), home));
        p.tags = new ArrayList<>(Arrays.asList("math", "engines"));
        p.scores = new LinkedHashMap<>();
        p.scores.put("notes", 7L);
        p.scores.put("big", Long.MAX_VALUE);
        p.salary = new BigDecimal("98765.4321");
        p.since = new Date(1_234_567_890_123L);
        p.manager = boss;
        return p;
    }
}
