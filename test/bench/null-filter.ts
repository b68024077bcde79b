// A filter that does nothing (every callback returns Continue): run through the same harness it
// measures the host's own per-callback cost, which is subtracted to get metawire's own time.
import { wat } from "../harness/wat.js";

export function nullFilterWasm(): Promise<Uint8Array> {
  return wat(`(module
    (memory (export "memory") 2)
    (global $top (mut i32) (i32.const 1024))
    (func (export "malloc") (param i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $top))
      (global.set $top (i32.add (global.get $top) (i32.and (i32.add (local.get 0) (i32.const 7)) (i32.const -8))))
      (local.get $p))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "_initialize"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (i32.const 0))
    (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (i32.const 0))
    (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
    (func (export "proxy_on_delete") (param i32)))`);
}
