// proxy-wasm 0.2.1 enum values as Envoy uses them (note DownstreamData 2, UpstreamData 3).

export enum WasmResult { Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4,
  InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, InternalFailure = 10, Unimplemented = 12 }

export enum Action { Continue = 0, Pause = 1 }

export enum BufferType { DownstreamData = 2, UpstreamData = 3, VmConfiguration = 6, PluginConfiguration = 7, CallData = 8 }

export enum StreamType { Downstream = 2, Upstream = 3 }

export enum PeerType { Unknown = 0, Local = 1, Remote = 2 }

export enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }

export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }
