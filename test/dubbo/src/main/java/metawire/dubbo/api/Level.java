package metawire.dubbo.api;

public enum Level {
    JUNIOR, SENIOR, PRINCIPAL
}
