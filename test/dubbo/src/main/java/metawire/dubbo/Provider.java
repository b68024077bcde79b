package metawire.dubbo;

import java.io.PrintStream;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.ServiceConfig;
import metawire.dubbo.api.Probe;

/**
 * Exports Probe (version 1.2.3, group metawire, and once more without version and group) over
 * dubbo://HOST:PORT with hessian2 serialization and no registry, prints "READY <dubbo version>" on
 * stdout and serves until killed.
 *
 *   java -Djdk.net.hosts.file=FILE -cp ... metawire.dubbo.Provider HOST PORT
 *
 * HOST is a name for 127.0.0.1, resolved from the hosts file FILE: Dubbo treats every loopback
 * address (127.*, localhost) as "this host" and replaces it with the machine's first non-loopback
 * address (NetUtils.isInvalidLocalHost / filterLocalHost), both for the address a provider binds and
 * for the address a consumer connects to; a name it does not recognise as local is used as given.
 *
 * It also ends when its standard input reaches end of file, so it cannot outlive the test process
 * that started it with a pipe there.
 */
public final class Provider {
    public static final String VERSION = "1.2.3";
    public static final String GROUP = "metawire";

    private Provider() {
    }

    public static void main(String[] args) throws Exception {
        Quiet.logging();
        PrintStream out = System.out;
        System.setOut(System.err);   // stdout carries READY only
        String host = args[0];
        int port = Integer.parseInt(args[1]);

        ApplicationConfig app = new ApplicationConfig("metawire-probe-provider");
        app.setQosEnable(false);
        ProtocolConfig protocol = new ProtocolConfig("dubbo", port);
        protocol.setHost(host);
        protocol.setSerialization("hessian2");

        ServiceConfig<Probe> service = new ServiceConfig<>();
        service.setApplication(app);
        service.setRegistry(new RegistryConfig(RegistryConfig.NO_AVAILABLE));
        service.setProtocol(protocol);
        service.setInterface(Probe.class);
        service.setRef(new ProbeImpl());
        service.setVersion(VERSION);
        service.setGroup(GROUP);
        service.export();

        // the same service without version and group (Java consumers write version "0.0.0" for it)
        ServiceConfig<Probe> plain = new ServiceConfig<>();
        plain.setApplication(app);
        plain.setRegistry(new RegistryConfig(RegistryConfig.NO_AVAILABLE));
        plain.setProtocol(protocol);
        plain.setInterface(Probe.class);
        plain.setRef(new ProbeImpl());
        plain.export();

        out.println("READY " + org.apache.dubbo.common.Version.getVersion());
        out.flush();
        try {
            while (System.in.read() >= 0) {
                // nothing is expected on stdin: only its end
            }
        } catch (java.io.IOException e) {
            // the same: the parent is gone
        }
        Runtime.getRuntime().halt(0);
    }
}
