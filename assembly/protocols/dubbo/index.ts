// The Dubbo codec: one decoder for either direction (header framing + Hessian 2 body metadata), its
// limits, and request-id correlation.
export { DubboLimits } from "./limits";
export { DubboDecoder } from "./message-decoder";
export { HessianReader } from "./hessian-reader";
export { W_MORE, W_DONE, W_FAIL, X_ANY, X_STRING, X_INT, K_NONE, K_STRING, K_NULL, K_INT, K_MAP, K_OTHER, CAP_NONE, CAP_STRING, CAP_STRICT, CAP_ATTACHMENTS } from "./hessian";
export { reasonText } from "./reasons";
export { DubboSession, MATCHED, UNEXPECTED, PENDING_METHOD_CAP } from "./session";
export {
  HEADER_BYTES,
  FLAG_REQUEST,
  FLAG_TWO_WAY,
  FLAG_EVENT,
  SERIALIZATION_HESSIAN2,
  STATUS_OK,
  STATUS_SERIALIZATION_ERROR,
  STATUS_CLIENT_TIMEOUT,
  STATUS_SERVER_TIMEOUT,
  STATUS_CHANNEL_INACTIVE,
  STATUS_BAD_REQUEST,
  STATUS_BAD_RESPONSE,
  STATUS_SERVICE_NOT_FOUND,
  STATUS_SERVICE_ERROR,
  STATUS_SERVER_ERROR,
  STATUS_CLIENT_ERROR,
  STATUS_SERVER_THREADPOOL_EXHAUSTED_ERROR,
  RESPONSE_NONE,
  RESPONSE_WITH_EXCEPTION,
  RESPONSE_VALUE,
  RESPONSE_NULL_VALUE,
  RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS,
  RESPONSE_VALUE_WITH_ATTACHMENTS,
  RESPONSE_NULL_VALUE_WITH_ATTACHMENTS,
} from "./header";
