// Per-VM state shared by every Redis connection of one plugin configuration.
import { FilterConfig } from "../config/config";
import { RedisLimits } from "../protocols/redis";
import { ProtocolStats } from "./stats";

export class RedisRuntime {
  limits: RedisLimits;
  stats: ProtocolStats = new ProtocolStats();

  constructor(public config: FilterConfig) {
    this.limits = config.redis.limits;
    this.stats.define("redis");
  }
}
