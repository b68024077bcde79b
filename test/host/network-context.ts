// The wasm network filter of one connection: Envoy's Context as a read+write filter and
// connection callback (context.cc onNewConnection/onData/onWrite/onEvent/onCloseTCP) over
// cpp-host's ContextBase network callbacks, with their failure checks (CHECK_FAIL_NET).
import { WasmResult } from "./envoy-abi.js";
import { BufferType, commonBuffer, mutableBuffer, NO_BUFFER, StreamType, type BufferAccess, type CelPrototype,
  type HostContext, type RootContextLike, type StreamInfo } from "./contexts.js";
import type { ByteBuffer } from "./byte-buffer.js";
import { FilterStatus, type ConnectionCallbacks, type ConnectionEvent, type FilterConnection, type ReadFilter,
  type WriteFilter } from "./connection.js";
import type { WasmVm } from "./vm.js";

const PeerType = { Unknown: 0, Local: 1, Remote: 2 } as const;

export class WasmNetworkFilter implements ReadFilter, WriteFilter, ConnectionCallbacks, HostContext {
  readonly id: number;
  readonly isRoot = false;
  readonly rootContext: RootContextLike;
  readonly prototypes = new Map<string, CelPrototype>();
  newConnectionStatus: FilterStatus | undefined;
  private downstreamData: ByteBuffer | null = null;
  private upstreamData: ByteBuffer | null = null;
  private inVmContextCreated = false;
  private tcpConnectionClosed = false;
  private streamFailed = false;

  constructor(private readonly vm: WasmVm, private readonly conn: FilterConnection) {
    this.rootContext = vm.rootContext;
    this.id = vm.allocContextId();
    vm.registerContext(this);
  }

  get stream(): StreamInfo {
    return this.conn.streamInfo;
  }

  // ---- filter callbacks ----

  // Only registers for connection events; nothing reaches the VM until onNewConnection.
  initializeReadFilterCallbacks(conn: FilterConnection): void {
    conn.addConnectionCallbacks(this);
  }

  onNewConnection(): FilterStatus {
    this.onCreate();
    this.newConnectionStatus = this.call("proxy_on_new_connection", this.id);
    return this.newConnectionStatus;
  }

  onData(data: ByteBuffer, endStream: boolean): FilterStatus {
    if (!this.inVmContextCreated) return FilterStatus.Continue;
    this.downstreamData = data; // kept for continue_stream/on_tick while paused
    const status = this.call("proxy_on_downstream_data", this.id, data.length, endStream ? 1 : 0);
    if (status === FilterStatus.Continue) this.downstreamData = null;
    return status;
  }

  onWrite(data: ByteBuffer, endStream: boolean): FilterStatus {
    if (!this.inVmContextCreated) return FilterStatus.Continue;
    this.upstreamData = data;
    const status = this.call("proxy_on_upstream_data", this.id, data.length, endStream ? 1 : 0);
    if (status === FilterStatus.Continue) this.upstreamData = null;
    // Envoy's only upstream-close signal: tcp_proxy writing end_stream downstream.
    if (endStream) this.notify("proxy_on_upstream_connection_close", this.id, PeerType.Unknown);
    return status;
  }

  onEvent(event: ConnectionEvent): void {
    if (!this.inVmContextCreated) return;
    this.notify("proxy_on_downstream_connection_close", this.id, event === "LocalClose" ? PeerType.Local : PeerType.Remote);
    this.onCloseTCP();
  }

  // ---- ContextBase ----

  private onCreate(): void {
    if (!this.vm.failed && !this.inVmContextCreated && this.vm.hasExport("proxy_on_context_create")) {
      this.vm.runCallback(() => this.vm.callExport(this, "proxy_on_context_create", this.id, this.rootContext.id));
    }
    this.inVmContextCreated = true; // also when failed or absent: the SDK manages its own state
  }

  // A filter-status callback: fail check, the call, fail check again, then deferred actions.
  private call(name: string, ...args: number[]): FilterStatus {
    const failed = this.checkFail();
    if (failed !== undefined) return failed;
    if (!this.vm.hasExport(name)) return FilterStatus.Continue;
    return this.vm.runCallback(() => {
      const r = this.vm.callExport(this, name, ...args);
      return this.checkFail() ?? (r === 0 ? FilterStatus.Continue : FilterStatus.StopIteration);
    });
  }

  // A void callback: skipped once the VM failed.
  private notify(name: string, ...args: number[]): void {
    if (!this.vm.failed && this.vm.hasExport(name)) this.vm.runCallback(() => this.vm.callExport(this, name, ...args));
  }

  // CHECK_FAIL_NET: fail-open lets the data through; fail-closed closes the connection once.
  private checkFail(): FilterStatus | undefined {
    if (!this.vm.failed) return undefined;
    if (this.vm.failOpen) return FilterStatus.Continue;
    if (!this.streamFailed) {
      this.streamFailed = true;
      this.conn.close("FlushWrite", "wasm_fail_stream"); // Downstream, then Upstream: same connection
    }
    return FilterStatus.StopIteration;
  }

  private onCloseTCP(): void {
    if (this.tcpConnectionClosed || !this.inVmContextCreated) return;
    this.tcpConnectionClosed = true;
    this.notify("proxy_on_done", this.id); // the result only matters for root contexts
    this.notify("proxy_on_log", this.id);
    this.notify("proxy_on_delete", this.id);
    // The Context lives until the filter chain is destroyed (deferred delete).
    this.conn.post(() => this.vm.unregisterContext(this.id));
  }

  // ---- HostContext (what hostcalls see) ----

  getBuffer(type: number): BufferAccess | undefined {
    if (type === BufferType.DownstreamData) return this.downstreamData ? mutableBuffer(this.downstreamData) : NO_BUFFER;
    if (type === BufferType.UpstreamData) return this.upstreamData ? mutableBuffer(this.upstreamData) : NO_BUFFER;
    return commonBuffer(type, this.vm.rootContext.vmConfig, undefined, undefined);
  }

  continueStream(type: number): number {
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    if (type === StreamType.Downstream) this.vm.afterCall(() => this.conn.continueReadingAfter(this));
    return WasmResult.Ok; // request/response: no HTTP callbacks on a TCP stream
  }

  closeStream(type: number): number {
    if (type === StreamType.Downstream) this.vm.afterCall(() => this.conn.close("FlushWrite", "wasm_downstream_close"));
    // The write-filter connection is the same downstream connection.
    if (type === StreamType.Upstream) this.vm.afterCall(() => this.conn.close("FlushWrite", "wasm_upstream_close"));
    return WasmResult.Ok;
  }
}
