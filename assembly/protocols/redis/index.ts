// The Redis codec: request and reply decoders, their limits, the command table and correlation.
export { RedisLimits } from "./limits";
export { RedisRequestDecoder } from "./request-decoder";
export { RedisReplyDecoder } from "./reply-decoder";
export { RedisSession, REPLY_MATCHED, REPLY_OUT_OF_BAND, REPLY_UNEXPECTED, PENDING_METHOD_CAP } from "./session";
export { METHOD_CAP, ARG_CAP, ARG_SLOTS, KEY_CAP_MAX } from "./request-capture";
export { HEAD_CAP, ERR_CAP } from "./reply-capture";
export {
  lookupCommand,
  commandName,
  commandRule,
  commandFlags,
  commandCount,
  ruleKind,
  ruleArg,
  ruleKeyword,
  psKind,
  KEY_NONE,
  KEY_INDEX,
  KEY_KEYNUM,
  KEY_KEYWORD,
  RULE_INDEX,
  RULE_KEYNUM,
  RULE_KEYWORD,
  CMD_SUBSCRIBE,
  CMD_UNSUBSCRIBE,
  CMD_MONITOR,
  CMD_CLIENT,
  CMD_RESET,
  CMD_QUIT,
  CMD_MULTI,
  CMD_EXEC,
  CMD_DISCARD,
  CMD_BLOCKING,
  CMD_PING,
  CMD_HELLO,
  CMD_PUBLISH,
  PS_CHANNEL,
  PS_PATTERN,
  PS_SHARD,
} from "./commands";
