// Envoy's tcp_proxy as the terminal read filter (source/common/tcp_proxy/tcp_proxy.cc, the
// generic parts): reads disabled from chain construction unless early data is allowed, the
// route picked in onNewConnection from filter state envoy.tcp_proxy.cluster (else the
// configured cluster), early data buffered until connected, half-close forwarded both ways.
import { ByteBuffer } from "./byte-buffer.js";
import { decodeUtf8 } from "./guest-memory.js";
import { FilterStatus, type ConnectionCallbacks, type ConnectionEvent, type FilterConnection,
  type ReadFilter } from "./connection.js";

export type ConnectMode = "immediate" | "on-downstream-data";

// What the upstream socket reports to tcp_proxy.
export interface UpstreamCallbacks {
  onConnected(info: { address: string; localAddress?: string }): void;
  onConnectFailed(reason: string): void;
  onData(bytes: Uint8Array, endStream: boolean): void;
  onClose(event: ConnectionEvent): void;
  onAboveWriteBufferHighWatermark(): void;
  onBelowWriteBufferLowWatermark(): void;
}
export interface UpstreamConnection {
  write(bytes: Uint8Array, endStream: boolean): void;
  close(flush: boolean): void;
  readDisable(disable: boolean): void;
}
export type UpstreamConnector = (cluster: string, address: string, cb: UpstreamCallbacks) => UpstreamConnection;

export interface TcpProxyConfig {
  clusters: Record<string, string>;
  cluster: string;
  maxEarlyDataBytes?: number;
  connectMode: ConnectMode;
  connector: UpstreamConnector;
}

export const CLUSTER_FILTER_STATE = "envoy.tcp_proxy.cluster";

export class TcpProxyFilter implements ReadFilter, ConnectionCallbacks {
  route: string | undefined;
  dataCalls = 0; // onData invocations (the filter manager skips empty, non-final buffers)
  private upstream: UpstreamConnection | undefined;
  private connected = false;
  private connecting = false;
  private receiveBeforeConnect = false;
  private readonly earlyData = new ByteBuffer();
  private earlyDataEnd = false;
  private initialDataReceived = false;
  private readDisabledDueToBuffer = false;
  private downstreamClosed = false;
  // Upstream bytes the downstream write path did not take (a wasm Pause on on_upstream_data).
  private readonly upstreamRead = new ByteBuffer();

  constructor(private readonly conn: FilterConnection, private readonly config: TcpProxyConfig) {}

  get isConnected(): boolean {
    return this.connected;
  }

  initializeReadFilterCallbacks(conn: FilterConnection): void {
    conn.addConnectionCallbacks(this);
    conn.enableHalfClose(true);
    this.receiveBeforeConnect = this.config.maxEarlyDataBytes !== undefined;
    // No payload may reach an upstream that does not exist yet.
    if (!this.receiveBeforeConnect) conn.readDisable(true);
  }

  onNewConnection(): FilterStatus {
    this.route = this.pickRoute();
    if (this.config.connectMode === "immediate") return this.establishUpstreamConnection();
    return this.receiveBeforeConnect ? FilterStatus.Continue : FilterStatus.StopIteration;
  }

  private pickRoute(): string {
    const state = this.conn.streamInfo.filterState.get(CLUSTER_FILTER_STATE);
    return state ? decodeUtf8(state.value) : this.config.cluster;
  }

  private establishUpstreamConnection(): FilterStatus {
    const route = this.route!;
    const address = Object.hasOwn(this.config.clusters, route) ? this.config.clusters[route] : undefined;
    if (address === undefined) {
      // downstream_cx_no_route: no cluster of that name (and no on-demand CDS).
      this.conn.close("NoFlush", `tcp_proxy: no cluster ${route}`);
      return FilterStatus.StopIteration;
    }
    this.conn.streamInfo.upstream.cluster = route;
    this.connecting = true;
    // Upstream socket callbacks are dispatcher events of their own.
    const ev = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => this.conn.event(() => fn(...a));
    this.upstream = this.config.connector(route, address, {
      onConnected: ev((info) => this.onPoolReady(info)),
      onConnectFailed: ev((reason) => this.onUpstreamEvent("RemoteClose", reason)),
      onData: ev((bytes, end) => this.onUpstreamData(bytes, end)),
      onClose: ev((event) => this.onUpstreamEvent(event, "upstream closed")),
      onAboveWriteBufferHighWatermark: ev(() => this.conn.readDisable(true)),
      onBelowWriteBufferLowWatermark: ev(() => this.conn.readDisable(false)),
    });
    return this.receiveBeforeConnect ? FilterStatus.Continue : FilterStatus.StopIteration;
  }

  onData(data: ByteBuffer, endStream: boolean): FilterStatus {
    this.dataCalls++;
    if (this.connected && this.upstream) {
      this.upstream.write(data.take(), endStream);
    } else if (this.receiveBeforeConnect) {
      this.earlyData.moveFrom(data);
      if (endStream) this.earlyDataEnd = true;
      if (!this.initialDataReceived && !(endStream && this.earlyData.length === 0)) {
        this.initialDataReceived = true;
        if (this.config.connectMode === "on-downstream-data" && !this.upstream) this.establishUpstreamConnection();
      }
      if (this.earlyData.length >= this.config.maxEarlyDataBytes! && !this.readDisabledDueToBuffer) {
        this.conn.readDisable(true);
        this.readDisabledDueToBuffer = true;
      }
    }
    return FilterStatus.StopIteration;
  }

  // onGenericPoolReady + onUpstreamConnection.
  private onPoolReady(info: { address: string; localAddress?: string }): void {
    if (this.downstreamClosed || this.conn.state !== "open") return;
    this.connecting = false;
    this.connected = true;
    this.conn.streamInfo.upstream.address = info.address;
    this.conn.streamInfo.upstream.localAddress = info.localAddress;
    if (this.earlyData.length > 0 || this.earlyDataEnd) this.upstream!.write(this.earlyData.take(), this.earlyDataEnd);
    if (!this.receiveBeforeConnect || this.readDisabledDueToBuffer) {
      this.readDisabledDueToBuffer = false;
      this.conn.readDisable(false);
    }
    this.conn.continueReadingAfter(this);
  }

  private onUpstreamData(bytes: Uint8Array, endStream: boolean): void {
    this.upstreamRead.add(bytes);
    this.conn.write(this.upstreamRead, endStream);
  }

  private onUpstreamEvent(event: ConnectionEvent, reason: string): void {
    const wasConnecting = this.connecting;
    this.connecting = false;
    this.upstream = undefined;
    this.connected = false;
    if (this.conn.state !== "open") return;
    // max_connect_attempts defaults to 1: a failed connect ends the downstream connection.
    if (wasConnecting) this.conn.close("NoFlush", `tcp_proxy: upstream connect failed (${reason})`);
    else this.conn.close("FlushWrite", `tcp_proxy: ${reason} (${event})`);
  }

  // Downstream events: a remote close flushes the upstream, a local one resets it.
  onEvent(event: ConnectionEvent): void {
    this.downstreamClosed = true;
    const up = this.upstream;
    this.upstream = undefined;
    up?.close(event === "RemoteClose");
  }

  onAboveWriteBufferHighWatermark(): void {
    this.upstream?.readDisable(true);
  }

  onBelowWriteBufferLowWatermark(): void {
    this.upstream?.readDisable(false);
  }
}

// An upstream server in memory: connects when the current event is done (or when told to, with
// autoConnect off), records what it got.
export class MemoryUpstream implements UpstreamConnection {
  readonly written: Uint8Array[] = [];
  connected = false;
  finReceived = false;
  closed = false;
  closedWithFlush: boolean | undefined;

  constructor(readonly address: string, private readonly cb: UpstreamCallbacks, post: (fn: () => void) => void, autoConnect = true) {
    if (autoConnect) post(() => this.connect());
  }

  connect(): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    this.cb.onConnected({ address: this.address, localAddress: "127.0.0.1:50000" });
  }

  failConnect(): void {
    if (this.closed || this.connected) return;
    this.closed = true;
    this.cb.onConnectFailed("connection refused");
  }

  write(bytes: Uint8Array, endStream: boolean): void {
    if (bytes.length) this.written.push(bytes.slice());
    if (endStream) this.finReceived = true;
  }

  close(flush: boolean): void {
    this.closed = true;
    this.closedWithFlush = flush;
  }

  readDisable(): void {}

  receive(bytes: Uint8Array, endStream: boolean): void {
    if (!this.closed) this.cb.onData(bytes, endStream);
  }

  remoteClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.cb.onClose("RemoteClose");
  }
}
