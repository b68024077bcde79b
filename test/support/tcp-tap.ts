// A recording TCP relay for end-to-end tests: listens on a free loopback port, connects each
// accepted socket to a target and copies bytes both ways unchanged (half-closes included), keeping
// every byte per connection and direction. Put one in front of the proxy and one behind it to
// compare what the client sent with what the server received, or to dump the exact bytes of a
// conversation when a decoder refuses them.
import net from "node:net";

export interface TapConnection {
  /** Port of the relay's socket towards the target (what the target sees as the peer port). */
  upstreamLocalPort: number;
  /** Client → target bytes. */
  up: Buffer[];
  /** Target → client bytes. */
  down: Buffer[];
  closed: boolean;
}

export interface Tap {
  port: number;
  connections: TapConnection[];
  close(): Promise<void>;
}

export const joined = (chunks: Buffer[]): Buffer => Buffer.concat(chunks);

export async function startTap(targetPort: number, targetHost = "127.0.0.1"): Promise<Tap> {
  const connections: TapConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.pause();
    const rec: TapConnection = { upstreamLocalPort: 0, up: [], down: [], closed: false };
    connections.push(rec);
    const target = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(target);
    client.setNoDelay(true);
    target.setNoDelay(true);
    target.once("connect", () => {
      rec.upstreamLocalPort = target.localPort ?? 0;
      client.resume();
    });
    client.on("data", (d: Buffer) => { rec.up.push(Buffer.from(d)); target.write(d); });
    target.on("data", (d: Buffer) => { rec.down.push(Buffer.from(d)); client.write(d); });
    client.on("end", () => target.end());
    target.on("end", () => client.end());
    const gone = () => {
      if (client.destroyed && target.destroyed) rec.closed = true;
    };
    client.on("error", () => target.destroy());
    target.on("error", () => client.destroy());
    client.on("close", () => { sockets.delete(client); if (!target.writableEnded) target.end(); gone(); });
    target.on("close", () => { sockets.delete(target); if (!client.writableEnded) client.end(); gone(); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
