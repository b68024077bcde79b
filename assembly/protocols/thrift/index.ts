// The Thrift codec: one decoder for either direction, its limits and seqid correlation.
export { ThriftLimits } from "./limits";
export { ThriftDecoder } from "./message-decoder";
export { ThriftSession, REPLY_MATCHED, REPLY_UNEXPECTED, PENDING_METHOD_CAP } from "./session";
export {
  TRANSPORT_UNKNOWN,
  TRANSPORT_FRAMED,
  TRANSPORT_UNFRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_UNKNOWN,
  PROTOCOL_BINARY,
  PROTOCOL_COMPACT,
  MSG_CALL,
  MSG_REPLY,
  MSG_EXCEPTION,
  MSG_ONEWAY,
  REPLY_STATUS_SUCCESS,
  REPLY_STATUS_ERROR,
  REPLY_STATUS_EXCEPTION,
} from "./types";
