// One downstream connection as Envoy's ConnectionImpl + network FilterManagerImpl run it:
// chain [wasm filter, tcp_proxy], one read buffer that filters see and edit, iteration that a
// filter can stop and resume, read disabling (tcp_proxy, buffer watermark), half-close and the
// close events. In memory by default (tests drive both peers); the TCP proxy plugs sockets in.
import { ByteBuffer } from "./byte-buffer.js";
import type { FilterState, StreamInfo } from "./contexts.js";
import { decodeUtf8 } from "./guest-memory.js";
import { WasmNetworkFilter } from "./network-context.js";
import { MemoryUpstream, TcpProxyFilter, type ConnectMode, type UpstreamConnector } from "./tcp-proxy-filter.js";
import type { WasmVm } from "./vm.js";

export const FilterStatus = { Continue: 0, StopIteration: 1 } as const;
export type FilterStatus = (typeof FilterStatus)[keyof typeof FilterStatus];
export type ConnectionEvent = "LocalClose" | "RemoteClose";
export type CloseType = "FlushWrite" | "NoFlush";

export interface ReadFilter {
  initializeReadFilterCallbacks(conn: FilterConnection): void;
  onNewConnection(): FilterStatus;
  onData(data: ByteBuffer, endStream: boolean): FilterStatus;
}
export interface WriteFilter {
  onWrite(data: ByteBuffer, endStream: boolean): FilterStatus;
}
export interface ConnectionCallbacks {
  onEvent(event: ConnectionEvent): void;
  onAboveWriteBufferHighWatermark?(): void;
  onBelowWriteBufferLowWatermark?(): void;
}

// The downstream socket below the connection (what the client sees).
export interface DownstreamTransport {
  write(bytes: Uint8Array): void;
  shutdownWrite(): void;          // FIN after the queued bytes
  close(flush: boolean): void;    // flush: after the queued bytes; else now
  setReadEnabled(enabled: boolean): void;
}

// In-memory client side: records what the client received.
export class MemoryTransport implements DownstreamTransport {
  readonly chunks: Uint8Array[] = [];
  finReceived = false;
  closed = false;
  readEnabled = true;
  write(bytes: Uint8Array): void { this.chunks.push(bytes.slice()); }
  shutdownWrite(): void { this.finReceived = true; }
  close(): void { this.closed = true; }
  setReadEnabled(enabled: boolean): void { this.readEnabled = enabled; }
}

export interface ConnectionOptions {
  vm?: WasmVm | null;                 // null: no wasm filter (plain tcp_proxy)
  source?: string;                    // "ip:port" of the client
  destination?: string;               // "ip:port" the client connected to
  bufferLimit?: number;               // per_connection_buffer_limit_bytes, default 1 MiB
  // tcp_proxy (the terminal filter)
  clusters?: Record<string, string>;  // cluster name -> "host:port"; default {default: "127.0.0.1:1"}
  cluster?: string;                   // the configured cluster, default "default"
  maxEarlyDataBytes?: number;         // set = receive before connect
  connectMode?: ConnectMode;
  connector?: UpstreamConnector;      // default: in-memory upstream, connected at the end of the event
  autoConnect?: boolean;              // in-memory upstream: false = wait for connectUpstream()
  transport?: DownstreamTransport;    // default: MemoryTransport
  filtersBefore?: ReadFilter[];       // read filters ahead of the wasm filter (e.g. an RBAC stand-in)
}

let nextConnectionId = 0; // Envoy's connection ids are process-wide

const concat = (chunks: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) { out.set(c, p); p += c.length; }
  return out;
};

interface ActiveReadFilter { filter: ReadFilter; initialized: boolean }

export class FilterConnection {
  readonly id = ++nextConnectionId;
  readonly streamInfo: StreamInfo;
  readonly wasm: WasmNetworkFilter | undefined;
  readonly tcpProxy: TcpProxyFilter;
  readonly transport: DownstreamTransport;
  state: "open" | "closed" = "open";
  closeEvent: ConnectionEvent | undefined;
  closeReason: string | undefined;

  private readonly readBuffer = new ByteBuffer();
  private readonly readFilters: ActiveReadFilter[] = [];
  private readonly writeFilters: WriteFilter[] = [];
  private readonly callbacks: ConnectionCallbacks[] = [];
  private readonly bufferLimit: number;
  private readDisableCount = 0;
  private aboveReadWatermark = false;
  private readonly pendingIn: Uint8Array[] = [];   // bytes the socket has that we have not read
  private pendingEof = false;
  private readEof = false;
  private readEofRaised = false;
  private writeEof = false;
  private dispatchBuffered = false;
  private depth = 0;
  private readonly posted: (() => void)[] = [];
  private started = false;
  private readonly memoryUpstreams: MemoryUpstream[] = [];
  private readonly filtersBefore: ReadFilter[];

  constructor(opts: ConnectionOptions = {}) {
    this.filtersBefore = opts.filtersBefore ?? [];
    this.bufferLimit = opts.bufferLimit ?? 1024 * 1024;
    this.transport = opts.transport ?? new MemoryTransport();
    this.streamInfo = {
      connectionId: this.id,
      sourceAddress: opts.source ?? `127.0.0.1:${40000 + (this.id % 20000)}`,
      destinationAddress: opts.destination ?? "127.0.0.1:10000",
      filterState: new Map(),
      upstream: {},
    };
    if (opts.vm) this.wasm = new WasmNetworkFilter(opts.vm, this);
    this.tcpProxy = new TcpProxyFilter(this, {
      clusters: opts.clusters ?? { default: "127.0.0.1:1" },
      cluster: opts.cluster ?? "default",
      maxEarlyDataBytes: opts.maxEarlyDataBytes,
      connectMode: opts.connectMode ?? "immediate",
      connector: opts.connector ?? ((_cluster, address, cb) => {
        const up = new MemoryUpstream(address, cb, (fn) => this.post(fn), opts.autoConnect ?? true);
        this.memoryUpstreams.push(up);
        return up;
      }),
    });
  }

  // ---- test/driver API ----

  // Builds the chain (each filter's initializeReadFilterCallbacks) and runs initializeReadFilters:
  // on_context_create + on_new_connection, then tcp_proxy's onNewConnection unless paused.
  // Returns what the wasm filter's on_new_connection decided.
  start(): "continue" | "pause" {
    if (this.started) throw new Error("connection already started");
    this.started = true;
    this.event(() => {
      for (const f of this.filtersBefore) this.addFilter(f);
      if (this.wasm) this.addFilter(this.wasm, this.wasm);
      this.addFilter(this.tcpProxy);
      for (const f of this.readFilters) f.filter.initializeReadFilterCallbacks(this);
      this.onContinueReading(undefined);
    });
    this.transport.setReadEnabled(this.readDisableCount === 0);
    return this.wasm?.newConnectionStatus === FilterStatus.StopIteration ? "pause" : "continue";
  }

  // Bytes (and optionally FIN) arriving from the client socket.
  downstreamData(bytes: Uint8Array, endStream = false): void {
    this.event(() => {
      if (bytes.length) this.pendingIn.push(bytes.slice());
      if (endStream) this.pendingEof = true;
      this.readPending();
    });
  }

  // Bytes (and optionally FIN) from the in-memory upstream server.
  upstreamData(bytes: Uint8Array, endStream = false): void {
    this.event(() => this.memoryUpstream().receive(bytes, endStream));
  }

  // The in-memory upstream server closes its socket (after a FIN, or a reset).
  upstreamClose(): void {
    this.event(() => this.memoryUpstream().remoteClose());
  }

  // Completes (or fails) the in-memory upstream connect when autoConnect is off.
  connectUpstream(ok = true): void {
    this.event(() => (ok ? this.memoryUpstream().connect() : this.memoryUpstream().failConnect()));
  }

  // "remote": the client went away (RemoteClose); "local": Envoy closes it (LocalClose, NoFlush).
  closeDownstream(how: "local" | "remote" = "remote"): void {
    this.event(() => {
      if (how === "local") this.close("NoFlush", "closed by the test");
      else this.closeSocket("RemoteClose", "remote close");
    });
  }

  // read_callbacks->continueReading() of the wasm filter: resumes at the filter after it.
  continueReading(): void {
    this.event(() => this.continueReadingAfter(this.wasm ?? this.tcpProxy));
  }

  sentUpstream(): Uint8Array {
    return concat(this.memoryUpstreams.flatMap((u) => u.written));
  }

  sentDownstream(): Uint8Array {
    const t = this.transport;
    return t instanceof MemoryTransport ? concat(t.chunks) : new Uint8Array(0);
  }

  get filterState(): FilterState {
    return this.streamInfo.filterState;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  get readDisabled(): boolean {
    return this.readDisableCount > 0;
  }

  get bufferedBytes(): number {
    return this.readBuffer.length;
  }

  // What the in-memory upstream saw: whether it got a FIN, which cluster was connected.
  get upstream(): MemoryUpstream | undefined {
    return this.memoryUpstreams[this.memoryUpstreams.length - 1];
  }

  // Filter-state value as text (e.g. "wasm.metawire.method" or "envoy.tcp_proxy.cluster").
  filterStateText(key: string): string | undefined {
    const e = this.streamInfo.filterState.get(key);
    return e ? decodeUtf8(e.value) : undefined;
  }

  private memoryUpstream(): MemoryUpstream {
    const up = this.upstream;
    if (!up) throw new Error("no in-memory upstream connection (not routed yet, or a socket connector is in use)");
    return up;
  }

  // ---- socket side (used by the TCP proxy) ----

  onSocketData(bytes: Uint8Array): void {
    this.downstreamData(bytes, false);
  }

  onSocketEnd(): void {
    this.downstreamData(new Uint8Array(0), true);
  }

  onSocketClosed(): void {
    this.event(() => this.closeSocket("RemoteClose", "remote close"));
  }

  onWriteBufferFull(): void {
    this.event(() => { for (const cb of [...this.callbacks]) cb.onAboveWriteBufferHighWatermark?.(); });
  }

  onWriteBufferDrained(): void {
    this.event(() => { for (const cb of [...this.callbacks]) cb.onBelowWriteBufferLowWatermark?.(); });
  }

  // ---- what filters call (Network::ReadFilterCallbacks / Connection) ----

  addConnectionCallbacks(cb: ConnectionCallbacks): void {
    this.callbacks.push(cb);
  }

  enableHalfClose(_enabled: boolean): void {
    // Always on: tcp_proxy, the only terminal filter here, enables it.
  }

  continueReadingAfter(filter: ReadFilter): void {
    const i = this.readFilters.findIndex((f) => f.filter === filter);
    this.event(() => this.onContinueReading(i));
  }

  // Envoy's readDisable counts: reads resume only when every disabler re-enabled them.
  readDisable(disable: boolean): void {
    if (this.state !== "open") return;
    if (disable) {
      if (this.readDisableCount++ === 0) this.transport.setReadEnabled(false);
      return;
    }
    if (this.readDisableCount === 0) return;
    if (--this.readDisableCount === 0) {
      this.transport.setReadEnabled(true);
      // Envoy fakes a read event so data already in the read buffer is dispatched again.
      if (this.readBuffer.length > 0) this.dispatchBuffered = true;
      this.post(() => this.readPending());
    }
  }

  // Connection::write: through the write filters (the wasm filter's on_upstream_data); a filter
  // that stops iteration leaves the bytes in `data` (no resume exists on the write path).
  write(data: ByteBuffer, endStream: boolean): void {
    if (this.state !== "open" || this.writeEof) return;
    for (const f of this.writeFilters) {
      if (f.onWrite(data, endStream) === FilterStatus.StopIteration || this.state !== "open") return;
    }
    if (data.length > 0) this.transport.write(data.take());
    if (endStream) {
      this.writeEof = true;
      this.transport.shutdownWrite();
      if (this.readEof) this.closeSocket("LocalClose", "both sides half closed"); // write finished last
    }
  }

  close(type: CloseType, details?: string): void {
    if (this.state !== "open") return;
    this.event(() => this.closeSocket("LocalClose", details ?? "local close", type === "FlushWrite"));
  }

  // dispatcher.post(): runs when the current event is done (or now, outside any event).
  post(fn: () => void): void {
    if (this.depth > 0) this.posted.push(fn);
    else this.event(fn);
  }

  // ---- internals ----

  private addFilter(read: ReadFilter, write?: WriteFilter): void {
    this.readFilters.push({ filter: read, initialized: false });
    if (write) this.writeFilters.unshift(write); // Envoy adds write filters at the front
  }

  // Runs one dispatcher event: work posted meanwhile (post(), re-enabled reads) runs after it.
  // Re-entrant: nested events join the outer one.
  event(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } finally {
      this.depth--;
    }
    if (this.depth === 0) {
      while (this.posted.length > 0) {
        this.depth++;
        try {
          this.posted.shift()!();
        } finally {
          this.depth--;
        }
      }
    }
  }

  // ConnectionImpl::onReadReady: read what the socket has (up to the buffer limit), hand it to
  // the filter chain, stop reading above the high watermark, close when both sides half-closed.
  private readPending(): void {
    while (this.state === "open" && this.readDisableCount === 0) {
      const hasInput = this.pendingIn.length > 0 || (this.pendingEof && !this.readEof);
      if (!hasInput && !this.dispatchBuffered) return;
      const dispatchBuffered = this.dispatchBuffered;
      this.dispatchBuffered = false;
      const before = this.readBuffer.length;
      this.readFromSocket();
      const read = this.readBuffer.length - before;
      if (read > 0 || this.readEof || (dispatchBuffered && this.readBuffer.length > 0)) this.onRead();
      if (this.state !== "open") return;
      this.checkReadWatermark();
      if (this.readEof && this.writeEof) {
        this.closeSocket("RemoteClose", "both sides half closed"); // read finished last
        return;
      }
      if (!hasInput) return;
    }
  }

  // RawBufferSocket::doRead: at least one 16 KiB read, then on until the buffer reaches the limit.
  private readFromSocket(): void {
    let first = true;
    while (this.pendingIn.length > 0 && (first || this.readBuffer.length < this.bufferLimit)) {
      const room = first && this.readBuffer.length >= this.bufferLimit ? 16384 : this.bufferLimit - this.readBuffer.length;
      const chunk = this.pendingIn[0];
      if (chunk.length <= room) {
        this.readBuffer.add(chunk);
        this.pendingIn.shift();
      } else {
        this.readBuffer.add(chunk.subarray(0, room));
        this.pendingIn[0] = chunk.subarray(room);
      }
      first = false;
    }
    if (this.pendingIn.length === 0 && this.pendingEof) this.readEof = true;
  }

  // ConnectionImpl::onRead: an end of stream is raised to the filters once, then never again.
  private onRead(): void {
    if (this.readBuffer.length === 0 && !this.readEof) return;
    if (this.readEof) {
      if (this.readEofRaised) return;
      this.readEofRaised = true;
    }
    this.onContinueReading(undefined);
  }

  // Read buffer watermarks: high = limit + 1, low = half of it (ConnectionImpl::setBufferLimits).
  private checkReadWatermark(): void {
    const high = this.bufferLimit + 1;
    if (!this.aboveReadWatermark && this.readBuffer.length > high) {
      this.aboveReadWatermark = true;
      this.readDisable(true);
    } else if (this.aboveReadWatermark && this.readBuffer.length < high / 2) {
      this.aboveReadWatermark = false;
      this.readDisable(false);
    }
  }

  // FilterManagerImpl::onContinueReading: from the first filter (undefined) or after index `after`.
  private onContinueReading(after: number | undefined): void {
    if (this.state !== "open") return;
    for (let i = after === undefined ? 0 : after + 1; i < this.readFilters.length; i++) {
      const entry = this.readFilters[i];
      if (!entry.initialized) {
        entry.initialized = true;
        if (entry.filter.onNewConnection() === FilterStatus.StopIteration || this.state !== "open") return;
      }
      if (this.readBuffer.length > 0 || this.readEof) {
        if (entry.filter.onData(this.readBuffer, this.readEof) === FilterStatus.StopIteration || this.state !== "open") break;
      }
    }
    if (this.state === "open") this.checkReadWatermark();
  }

  private closeSocket(event: ConnectionEvent, reason: string, flush = false): void {
    if (this.state !== "open") return;
    this.state = "closed";
    this.closeEvent = event;
    this.closeReason = reason;
    this.transport.close(event === "LocalClose" ? flush : true);
    for (const cb of [...this.callbacks]) cb.onEvent(event);
  }
}
