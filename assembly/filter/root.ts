// The plugin's root context: reads and validates the configuration, defines metrics, and
// creates one protocol connection context per downstream connection.
import { NetworkContext, RootContext } from "../abi/context";
import { getBufferCopy, log, refreshLogLevel } from "../abi/hostcalls";
import { BufferType, LogLevel } from "../abi/types";
import { configError, parseConfig } from "../config/config";
import { RedisConnection } from "./redis-connection";
import { RedisRuntime } from "./redis-runtime";

export class MetawireRoot extends RootContext {
  private redis: RedisRuntime | null = null;

  onConfigure(size: i32): bool {
    refreshLogLevel();
    const cfg = parseConfig(getBufferCopy(BufferType.PluginConfiguration, size));
    if (cfg == null) {
      log(LogLevel.Error, "metawire: invalid configuration: " + configError);
      return false;
    }
    this.redis = new RedisRuntime(cfg);
    log(LogLevel.Info, "metawire: configured for redis");
    return true;
  }

  newConnection(id: u32): NetworkContext {
    const redis = this.redis;
    if (redis == null) return new NetworkContext(id, this);   // not configured: pass through
    return new RedisConnection(id, this, redis);
  }
}
