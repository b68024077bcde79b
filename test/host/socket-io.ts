// net.Socket adapters for FilterConnection (the downstream socket) and tcp_proxy (upstream
// connections): half-close, flush-then-close vs reset, and write backpressure mapped onto
// Envoy's watermark callbacks.
import net from "node:net";
import type { DownstreamTransport, FilterConnection } from "./connection.js";
import type { UpstreamCallbacks, UpstreamConnection, UpstreamConnector } from "./tcp-proxy-filter.js";

const addr = (host: string | undefined, port: number | undefined): string =>
  host && host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

// Closes after queued bytes were handed to the kernel (ConnectionCloseType::FlushWrite).
function flushClose(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) socket.destroy();
  else {
    socket.once("finish", () => socket.destroy());
    if (!socket.writableEnded) socket.end();
  }
}

export class SocketTransport implements DownstreamTransport {
  private conn: FilterConnection | undefined;
  private aboveHighWatermark = false; // watermark callbacks fire on transitions only
  bytesOut = 0;

  constructor(readonly socket: net.Socket) {}

  // Wires socket events into the connection; call before conn.start().
  attach(conn: FilterConnection): void {
    this.conn = conn;
    const s = this.socket;
    s.on("data", (chunk: Buffer) => conn.onSocketData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    s.on("end", () => conn.onSocketEnd());
    s.on("drain", () => {
      if (!this.aboveHighWatermark) return;
      this.aboveHighWatermark = false;
      conn.onWriteBufferDrained();
    });
    s.on("error", () => { /* followed by "close" */ });
    s.on("close", () => conn.onSocketClosed());
  }

  get localAddress(): string {
    return addr(this.socket.localAddress, this.socket.localPort);
  }

  get remoteAddress(): string {
    return addr(this.socket.remoteAddress, this.socket.remotePort);
  }

  write(bytes: Uint8Array): void {
    this.bytesOut += bytes.length;
    if (!this.socket.write(bytes) && !this.aboveHighWatermark) {
      this.aboveHighWatermark = true;
      this.conn?.onWriteBufferFull();
    }
  }

  shutdownWrite(): void {
    this.socket.end();
  }

  close(flush: boolean): void {
    if (flush) flushClose(this.socket);
    else this.socket.destroy();
  }

  setReadEnabled(enabled: boolean): void {
    if (this.socket.destroyed) return;
    if (enabled) this.socket.resume();
    else this.socket.pause();
  }
}

class SocketUpstream implements UpstreamConnection {
  private readonly cb: UpstreamCallbacks;
  private aboveHighWatermark = false;
  private disabled = 0;
  private closedByUs = false;
  private connected = false;

  constructor(private readonly socket: net.Socket, cb: UpstreamCallbacks) {
    this.cb = cb;
    socket.on("connect", () => {
      this.connected = true;
      cb.onConnected({ address: addr(socket.remoteAddress, socket.remotePort), localAddress: addr(socket.localAddress, socket.localPort) });
    });
    socket.on("data", (chunk: Buffer) => cb.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), false));
    socket.on("end", () => cb.onData(new Uint8Array(0), true));
    socket.on("drain", () => {
      if (!this.aboveHighWatermark) return;
      this.aboveHighWatermark = false;
      cb.onBelowWriteBufferLowWatermark();
    });
    let error: Error | undefined;
    socket.on("error", (e) => { error = e; });
    socket.on("close", () => {
      if (this.closedByUs) return;
      if (!this.connected) cb.onConnectFailed(error?.message ?? "connection closed");
      else cb.onClose("RemoteClose");
    });
  }

  write(bytes: Uint8Array, endStream: boolean): void {
    if (this.socket.destroyed) return;
    if (bytes.length > 0 && !this.socket.write(bytes) && !this.aboveHighWatermark) {
      this.aboveHighWatermark = true;
      this.cb.onAboveWriteBufferHighWatermark();
    }
    if (endStream) this.socket.end();
  }

  close(flush: boolean): void {
    this.closedByUs = true;
    if (flush) flushClose(this.socket);
    else this.socket.destroy();
  }

  readDisable(disable: boolean): void {
    this.disabled += disable ? 1 : -1;
    if (this.disabled > 0) this.socket.pause();
    else { this.disabled = 0; this.socket.resume(); }
  }
}

// "host:port" clusters, connected with real sockets.
export const socketConnector: UpstreamConnector = (_cluster, address, cb) => {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[|\]$/g, ""), port = Number(address.slice(i + 1));
  const socket = net.connect({ host, port, allowHalfOpen: true });
  socket.setNoDelay(true);
  return new SocketUpstream(socket, cb);
};
