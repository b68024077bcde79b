// The user-facing contexts (the proxy-wasm-rust-sdk "traits" layer): the filter extends these;
// the dispatcher routes host callbacks to them by context id.
import { Action, PeerType } from "./types";

/** One per plugin configuration per VM (per Envoy worker). */
export abstract class RootContext {
  constructor(public readonly id: u32) {}
  onVmStart(vmConfigSize: i32): bool { return true; }
  /** Returning false makes Envoy reject the configuration. */
  onConfigure(pluginConfigSize: i32): bool { return true; }
  onTick(): void {}
  abstract newConnection(id: u32): NetworkContext;
  onDone(): bool { return true; }
}

/** One per downstream connection. */
export class NetworkContext {
  constructor(public readonly id: u32, public readonly root: RootContext) {}
  onNewConnection(): Action { return Action.Continue; }
  onDownstreamData(size: i32, endOfStream: bool): Action { return Action.Continue; }
  onUpstreamData(size: i32, endOfStream: bool): Action { return Action.Continue; }
  onDownstreamClose(peer: PeerType): void {}
  onUpstreamClose(peer: PeerType): void {}
  onDone(): bool { return true; }
  onLog(): void {}
  onDelete(): void {}
  /** Called from the root's tick for a connection that asked for it; return true to stay armed. */
  onTimer(nowNs: i64): bool { return false; }
}
