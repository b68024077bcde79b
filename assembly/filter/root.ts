// The plugin's root context: reads and validates the configuration, defines metrics, and
// creates one protocol connection context per downstream connection.
import { NetworkContext, RootContext } from "../abi/context";
import { getBufferCopy, log, monotonicNs, refreshLogLevel } from "../abi/hostcalls";
import { BufferType, LogLevel } from "../abi/types";
import { FilterConfig, Protocol, configError, parseConfig } from "../config/config";
import { RedisConnection } from "./redis-connection";
import { ThriftConnection } from "./thrift-connection";
import { DubboConnection } from "./dubbo-connection";
import { AutoConnection, PROTOCOL_NAMES } from "./auto-connection";
import { ProtocolStats } from "./stats";
import { PolicyEngine } from "../policy/engine";
import { ConnectionTimers } from "./timers";
import { Enforcement, RoutedConnection } from "./protocol-connection";

export class MetawireRoot extends RootContext {
  private cfg: FilterConfig | null = null;
  /** One set of metrics per protocol, indexed by Protocol; only the configured ones are defined. */
  private stats: StaticArray<ProtocolStats> = [new ProtocolStats(), new ProtocolStats(), new ProtocolStats()];
  readonly timers: ConnectionTimers = new ConnectionTimers();
  private enforcement: Enforcement | null = null;
  private flushIntervalNs: i64 = 0;
  private lastFlushNs: i64 = 0;

  onConfigure(size: i32): bool {
    refreshLogLevel();
    const cfg = parseConfig(getBufferCopy(BufferType.PluginConfiguration, size));
    if (cfg == null) {
      log(LogLevel.Error, "metawire: invalid configuration: " + configError);
      return false;
    }
    for (let p = 0; p < PROTOCOL_NAMES.length; p++) {
      this.stats[p] = new ProtocolStats();
      if (cfg.auto || p == <i32>cfg.protocol) this.stats[p].define(PROTOCOL_NAMES[p], cfg);
    }
    this.cfg = cfg;
    this.enforcement = new Enforcement(new PolicyEngine(cfg), this.timers);
    this.flushIntervalNs = <i64>cfg.flushIntervalMs * 1000000;
    this.timers.setIdlePeriod(<u32>cfg.flushIntervalMs);
    log(LogLevel.Info, "metawire: configured for " + (cfg.auto ? "auto (redis, thrift, dubbo)" : PROTOCOL_NAMES[<i32>cfg.protocol]) +
      (cfg.routes.length > 0 ? ", " + cfg.routes.length.toString() + " route(s)" : "") +
      (cfg.policies.length > 0 ? ", " + cfg.policies.length.toString() + " polic" + (cfg.policies.length == 1 ? "y" : "ies") : ""));
    return true;
  }

  newConnection(id: u32): NetworkContext {
    const cfg = this.cfg;
    if (cfg == null) return new NetworkContext(id, this);   // not configured: pass through
    if (cfg.auto) return new AutoConnection<MetawireRoot>(id, this, this, this.stats, cfg.routes.length > 0, cfg.routing.waitMs, this.timers);
    return this.connectionFor(cfg.protocol, id);
  }

  connectionFor(protocol: Protocol, id: u32): RoutedConnection {
    const cfg = this.cfg!;
    const stats = this.stats[<i32>protocol];
    const enforcement = this.enforcement!;
    if (protocol == Protocol.Thrift) return new ThriftConnection(id, this, cfg, stats, enforcement);
    if (protocol == Protocol.Dubbo) return new DubboConnection(id, this, cfg, stats, enforcement);
    return new RedisConnection(id, this, cfg, stats, enforcement);
  }

  onTick(): void {
    const now = monotonicNs();
    this.timers.tick(now);
    if (this.flushIntervalNs > 0 && now - this.lastFlushNs >= this.flushIntervalNs) {
      this.lastFlushNs = now;
      for (let p = 0; p < this.stats.length; p++) this.stats[p].flushNow();
    }
  }
}
