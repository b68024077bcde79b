package metawire.dubbo.api;

import java.io.Serializable;

public class Address implements Serializable {
    private static final long serialVersionUID = 1L;

    public String city;
    public String zip;
    public double[] geo;

    public Address() {
    }

    public Address(String city, String zip, double... geo) {
        this.city = city;
        this.zip = zip;
        this.geo = geo;
    }
}
