// AssemblyScript's default `abort` is an `env.abort` import, which Envoy does not provide (the
// module would fail to load). asc is built with `--use abort=assembly/abi/abort/proxyAbort`.
// An abort is a bug (metawire never asserts on input): log it through the host, then trap.
import { proxy_log } from "./imports";

export function proxyAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = "metawire abort: " + (message ? message : "") + " at " + (fileName ? fileName : "?") +
    ":" + line.toString() + ":" + column.toString();
  const buf = String.UTF8.encode(text);
  proxy_log(4, changetype<usize>(buf), buf.byteLength);
  unreachable();
}
