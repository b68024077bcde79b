package metawire.dubbo.api;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** A Java-typed object with nested objects, an enum, collections, a BigDecimal and a Date. */
public class Person implements Serializable {
    private static final long serialVersionUID = 1L;

    public String name;
    public int age;
    public Level level;
    public Address home;
    public List<Address> past;
    public List<String> tags;
    public Map<String, Long> scores;
    public BigDecimal salary;
    public Date since;
    public Person manager;
}
