// Raw proxy-wasm ABI 0.2.1 host functions, exactly as Envoy registers them (names and wasm types).
// Only what metawire calls is declared: every import here must exist in Envoy's table, or the
// module fails to load. The harness checks this from the binary.

// @ts-ignore: decorator
@external("env", "proxy_log")
export declare function proxy_log(level: i32, message: usize, size: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(ret_level: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(ret_time: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(period: u32): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(type: i32, start: u32, max: u32, ret_ptr: usize, ret_len: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(type: i32, start: u32, len: u32, data: usize, size: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: usize, path_len: usize, ret_ptr: usize, ret_len: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_set_property")
export declare function proxy_set_property(path: usize, path_len: usize, value: usize, value_len: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(stream: i32): i32;

// @ts-ignore: decorator
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(stream: i32): i32;

// @ts-ignore: decorator
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(context_id: u32): i32;

// @ts-ignore: decorator
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: i32, name: usize, name_len: usize, ret_id: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, delta: i64): i32;

// @ts-ignore: decorator
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(id: u32, value: u64): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(id: u32, ret_value: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key: usize, key_len: usize, ret_ptr: usize, ret_len: usize, ret_cas: usize): i32;

// @ts-ignore: decorator
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key: usize, key_len: usize, value: usize, value_len: usize, cas: u32): i32;

// @ts-ignore: decorator
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(name: usize, name_len: usize, args: usize, args_len: usize, ret_ptr: usize, ret_len: usize): i32;

// Monotonic clock: Envoy registers WASI clock_time_get (id 1 = monotonic) in every version.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function wasi_clock_time_get(id: i32, precision: i64, ret_time: usize): i32;

// Envoy's entropy source for weighted choices and sampling (Math.random would import env.seed).
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function wasi_random_get(buf: usize, len: usize): i32;
