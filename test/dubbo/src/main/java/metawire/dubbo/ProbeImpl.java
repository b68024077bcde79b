package metawire.dubbo;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import metawire.dubbo.api.Address;
import metawire.dubbo.api.Level;
import metawire.dubbo.api.NotFoundException;
import metawire.dubbo.api.Person;
import metawire.dubbo.api.Probe;

final class ProbeImpl implements Probe {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "probe-timer");
        t.setDaemon(true);
        return t;
    });
    private final List<String> records = new ArrayList<>();
    /** Invocations by method name, shared by every instance (the provider exports two). */
    private static final Map<String, Integer> INVOCATIONS = new TreeMap<>();

    private static void ran(String method) {
        synchronized (INVOCATIONS) {
            INVOCATIONS.merge(method, 1, Integer::sum);
        }
    }

    @Override
    public Map<String, Integer> invocations() {
        synchronized (INVOCATIONS) {
            return new TreeMap<>(INVOCATIONS);
        }
    }

    @Override
    public String echo(String text) {
        ran("echo");
        return text;
    }

    @Override
    public long add(int a, long b) {
        ran("add");
        return a + b;
    }

    @Override
    public String primitives(byte b, short s, int i, long l, float f, double d, boolean z, char c) {
        ran("primitives");
        return b + "|" + s + "|" + i + "|" + l + "|" + f + "|" + d + "|" + z + "|" + c;
    }

    @Override
    public List<String> reverse(List<String> items) {
        ran("reverse");
        List<String> out = new ArrayList<>(items);
        Collections.reverse(out);
        return out;
    }

    @Override
    public Map<String, Integer> count(List<String> words) {
        ran("count");
        Map<String, Integer> out = new TreeMap<>();
        for (String w : words) out.merge(w, 1, Integer::sum);
        return out;
    }

    @Override
    public Person promote(Person person, Level to) {
        ran("promote");
        Person p = new Person();
        p.name = person.name;
        p.age = person.age + 1;
        p.level = to;
        p.home = person.home;
        p.past = new ArrayList<>(person.past == null ? Collections.emptyList() : person.past);
        p.past.add(new Address("Promotion City", "P-" + to.ordinal(), 1.5, -2.25));
        p.tags = new ArrayList<>(person.tags == null ? Collections.emptyList() : person.tags);
        p.tags.add("promoted:" + to.name().toLowerCase());
        p.scores = new LinkedHashMap<>(person.scores == null ? Collections.emptyMap() : person.scores);
        p.scores.put("promotions", p.scores.getOrDefault("promotions", 0L) + 1);
        p.salary = person.salary == null ? null : person.salary.multiply(new BigDecimal("1.10"));
        p.since = person.since;
        p.manager = person.manager;
        return p;
    }

    @Override
    public Person find(String name) throws NotFoundException {
        ran("find");
        if ("ghost".equals(name)) throw new NotFoundException(name);
        Person p = new Person();
        p.name = name;
        p.age = name.length() * 7;
        p.level = Level.JUNIOR;
        p.home = new Address("Zürich ✓", "80" + name.length(), 47.3769, 8.5417);
        p.tags = new ArrayList<>(List.of("found", name));
        p.scores = new TreeMap<>(Map.of("length", (long) name.length(), "big", 1L << 40));
        p.salary = new BigDecimal("12345.678");
        p.since = new Date(1_600_000_000_000L);
        return p;
    }

    @Override
    public String boom(String why) {
        ran("boom");
        throw new IllegalStateException("boom: " + why);
    }

    @Override
    public String nothing(String why) {
        ran("nothing");
        return null;
    }

    @Override
    public String echoText(String text) {
        ran("echoText");
        return text;
    }

    @Override
    public byte[] echoBytes(byte[] data) {
        ran("echoBytes");
        return data;
    }

    @Override
    public CompletableFuture<String> delayed(int ms, String tag) {
        ran("delayed");
        CompletableFuture<String> f = new CompletableFuture<>();
        timer.schedule(() -> f.complete(tag + " after " + ms + " ms"), ms, TimeUnit.MILLISECONDS);
        return f;
    }

    @Override
    public void record(String what) {
        ran("record");
        synchronized (records) {
            records.add(what);
            records.notifyAll();
        }
    }

    @Override
    public List<String> takeRecords(int atLeast) {
        ran("takeRecords");
        long deadline = System.currentTimeMillis() + 5000;
        synchronized (records) {
            while (records.size() < atLeast && System.currentTimeMillis() < deadline) {
                try {
                    records.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            List<String> out = new ArrayList<>(records);
            records.clear();
            Collections.sort(out);   // one-way requests are served by a pool: no order
            return out;
        }
    }

    @Override
    public Map<String, String> context(List<String> keys) {
        ran("context");
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            String v = Contexts.requestAttachment(k);
            if (v != null) out.put(k, v);
        }
        Contexts.setReplyAttachment("x-served-by", "probe");
        return out;
    }
}
