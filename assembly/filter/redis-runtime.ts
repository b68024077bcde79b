// Per-VM state shared by every Redis connection of one plugin configuration.
import { FilterConfig } from "../config/config";
import { RedisLimits } from "../protocols/redis";
import { ProtocolStats } from "./stats";

export class RedisRuntime {
  limits: RedisLimits = new RedisLimits();
  stats: ProtocolStats = new ProtocolStats();

  constructor(public config: FilterConfig) {
    const r = config.redis;
    const l = this.limits;
    l.maxBulkBytes = r.maxBulkBytes;
    l.maxLineBytes = r.maxLineBytes;
    l.maxElements = r.maxElements;
    l.maxTotalElements = r.maxTotalElements;
    l.maxDepth = r.maxDepth;
    l.maxKeyCapture = r.maxKeyBytes;
    this.stats.define("redis");
  }
}
