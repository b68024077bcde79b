package metawire.dubbo.api;

/** The declared exception of Probe.find. */
public class NotFoundException extends Exception {
    private static final long serialVersionUID = 1L;

    public String name;

    public NotFoundException() {
    }

    public NotFoundException(String name) {
        super("no such person: " + name);
        this.name = name;
    }
}
