package metawire.dubbo;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Dubbo logs through java.util.logging, warnings and errors only, to stderr. */
final class Quiet {
    private Quiet() {
    }

    static void logging() {
        System.setProperty("dubbo.application.logger", "jdk");
        Logger root = Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (Handler h : root.getHandlers()) h.setLevel(Level.WARNING);
    }
}
