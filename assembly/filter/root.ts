// The plugin's root context: reads and validates the configuration, defines metrics, and
// creates one protocol connection context per downstream connection.
import { NetworkContext, RootContext } from "../abi/context";
import { getBufferCopy, log, refreshLogLevel } from "../abi/hostcalls";
import { BufferType, LogLevel } from "../abi/types";
import { FilterConfig, Protocol, configError, parseConfig } from "../config/config";
import { RedisConnection } from "./redis-connection";
import { ThriftConnection } from "./thrift-connection";
import { DubboConnection } from "./dubbo-connection";
import { ProtocolStats } from "./stats";

const PROTOCOL_NAMES: StaticArray<string> = ["redis", "thrift", "dubbo"];

export class MetawireRoot extends RootContext {
  private cfg: FilterConfig | null = null;
  private stats: ProtocolStats = new ProtocolStats();

  onConfigure(size: i32): bool {
    refreshLogLevel();
    const cfg = parseConfig(getBufferCopy(BufferType.PluginConfiguration, size));
    if (cfg == null) {
      log(LogLevel.Error, "metawire: invalid configuration: " + configError);
      return false;
    }
    const name = PROTOCOL_NAMES[<i32>cfg.protocol];
    this.stats = new ProtocolStats();
    this.stats.define(name);
    this.cfg = cfg;
    log(LogLevel.Info, "metawire: configured for " + name);
    return true;
  }

  newConnection(id: u32): NetworkContext {
    const cfg = this.cfg;
    if (cfg == null) return new NetworkContext(id, this);   // not configured: pass through
    if (cfg.protocol == Protocol.Thrift) return new ThriftConnection(id, this, cfg, this.stats);
    if (cfg.protocol == Protocol.Dubbo) return new DubboConnection(id, this, cfg, this.stats);
    return new RedisConnection(id, this, cfg, this.stats);
  }
}
