// The WASI functions cpp-host links under both wasi_unstable and wasi_snapshot_preview1: mostly
// stubs; stdout/stderr become log lines, clocks and random work, proc_exit does not trap.
import { LogLevel, type WasmVm } from "./vm.js";
import { decodeUtf8, encodeUtf8 } from "./guest-memory.js";
import { randomFillSync } from "node:crypto";

const ESUCCESS = 0, EBADF = 8, EFAULT = 21, ENOTDIR = 20, EINVAL = 28, ENOENT = 44, ENOSYS = 52, ENOTSUP = 58;
const RANDOM_GET_MAX = 64 * 1024; // cpp-host PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES
const u = (x: number): number => x >>> 0;
const stdio = (fd: number) => u(fd) === 1 || u(fd) === 2;

export function wasiHostcalls(vm: WasmVm): Record<string, (...a: any[]) => number | void> {
  const mem = () => vm.mem;
  const ok = (written: boolean) => (written ? ESUCCESS : EFAULT);
  // Context::error goes to Envoy's trace log.
  const traceError = (msg: string) => vm.log(LogLevel.trace, msg, vm.context().id);

  // writevImpl: the iovecs concatenated, one trailing newline dropped, logged at info/error.
  const writev = (fd: number, iovs: number, n: number): number | { written: number } => {
    const level = u(fd) === 1 ? LogLevel.info : u(fd) === 2 ? LogLevel.error : -1;
    if (level < 0) return EBADF;
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < u(n); i++) {
      const vec = mem().read(u(iovs) + i * 8, 8);
      if (!vec) return EFAULT;
      const dv = new DataView(vec.buffer);
      const buf = dv.getUint32(0, true), len = dv.getUint32(4, true);
      if (len === 0) continue;
      const bytes = mem().read(buf, len);
      if (!bytes) return EFAULT;
      chunks.push(bytes);
      total += len;
    }
    if (total > 0) {
      const all = new Uint8Array(total);
      let p = 0;
      for (const c of chunks) { all.set(c, p); p += c.length; }
      const text = decodeUtf8(all[total - 1] === 0x0a ? all.subarray(0, total - 1) : all);
      vm.log(level, text, vm.context().id);
    }
    return { written: total };
  };

  const envStrings = () => vm.env.map(([k, v]) => encodeUtf8(`${k}=${v}\0`));

  return {
    "wasi.fd_write": (fd: number, iovs: number, n: number, nwritten: number) => {
      const r = writev(fd, iovs, n);
      if (typeof r === "number") return r;
      return ok(mem().setU32(u(nwritten), r.written));
    },
    "wasi.fd_pwrite": (fd: number, iovs: number, n: number, _off: bigint, nwritten: number) => {
      if (!stdio(fd)) return EBADF;
      const r = writev(fd, iovs, n);
      if (typeof r === "number") return r;
      return ok(mem().setU32(u(nwritten), r.written));
    },
    "wasi.fd_read": () => ENOSYS,
    "wasi.fd_seek": () => { traceError("wasi_unstable fd_seek"); return ESUCCESS; },
    "wasi.fd_close": () => { traceError("wasi_unstable fd_close"); return ESUCCESS; },
    "wasi.fd_fdstat_get": (fd: number, statOut: number) => {
      if (!stdio(fd)) return EBADF;
      const stat = new Uint8Array(24);
      stat[8] = 64; // fs_rights_base = FD_WRITE
      mem().write(u(statOut), stat); // cpp-host ignores a failed write here
      return ESUCCESS;
    },
    "wasi.fd_fdstat_set_flags": () => ENOSYS,
    "wasi.environ_get": (arrayPtr: number, bufPtr: number) => {
      let a = u(arrayPtr), b = u(bufPtr);
      for (const s of envStrings()) {
        if (!mem().setU32(a, b) || !mem().write(b, s)) return EFAULT;
        a += 4;
        b += s.length;
      }
      return ESUCCESS;
    },
    "wasi.environ_sizes_get": (countPtr: number, sizePtr: number) => {
      const strings = envStrings();
      if (!mem().setU32(u(countPtr), strings.length)) return EFAULT;
      return ok(mem().setU32(u(sizePtr), strings.reduce((n, s) => n + s.length, 0)));
    },
    "wasi.args_get": () => ESUCCESS,
    "wasi.args_sizes_get": (argc: number, size: number) => ok(mem().setU32(u(argc), 0) && mem().setU32(u(size), 0)),
    "wasi.clock_time_get": (id: number, _precision: bigint, ret: number) => {
      const clock = u(id);
      if (clock !== 0 && clock !== 1) return ENOTSUP;
      return ok(mem().setU64(u(ret), clock === 0 ? vm.clock.realtimeNs() : vm.clock.monotonicNs()));
    },
    "wasi.clock_res_get": (id: number, ret: number) => {
      if (u(id) !== 0 && u(id) !== 1) return ENOTSUP;
      return ok(mem().setU64(u(ret), 1n));
    },
    "wasi.random_get": (ptr: number, len: number) => {
      if (u(len) > RANDOM_GET_MAX) return EINVAL;
      if (u(len) === 0) return ESUCCESS;
      return ok(mem().write(u(ptr), randomFillSync(new Uint8Array(u(len)))));
    },
    "wasi.proc_exit": () => { traceError("wasi_unstable proc_exit"); },
    "wasi.path_open": () => ENOENT,
    "wasi.fd_prestat_get": () => EBADF,
    "wasi.fd_prestat_dir_name": () => ENOSYS,
    "wasi.sched_yield": () => ESUCCESS,
    "wasi.poll_oneoff": (_in: number, _out: number, _n: number, nevents: number) => ok(mem().setU32(u(nevents), 0)),
    "wasi.fd_fdstat_set_rights": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_advise": () => ESUCCESS,
    "wasi.fd_allocate": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_datasync": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_filestat_get": () => EBADF,
    "wasi.fd_filestat_set_size": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_filestat_set_times": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_pread": () => ENOSYS,
    "wasi.fd_readdir": (_fd: number, _buf: number, _len: number, _cookie: bigint, nread: number) =>
      (mem().setU32(u(nread), 0) ? ENOTDIR : EFAULT),
    "wasi.fd_renumber": (fd: number, to: number) => (stdio(fd) && stdio(to) ? ENOTSUP : EBADF),
    "wasi.fd_sync": (fd: number) => (stdio(fd) ? ESUCCESS : EBADF),
    "wasi.fd_tell": (fd: number, ret: number) => (stdio(fd) ? ok(mem().setU64(u(ret), 0n)) : EBADF),
    "wasi.path_create_directory": () => ENOTSUP,
    "wasi.path_filestat_get": () => ENOTSUP,
    "wasi.path_filestat_set_times": () => ENOTSUP,
    "wasi.path_link": () => ENOTSUP,
    "wasi.path_readlink": (_fd: number, _p: number, _pl: number, _b: number, _bl: number, ret: number) =>
      (mem().setU32(u(ret), 0) ? ENOTSUP : EFAULT),
    "wasi.path_remove_directory": () => ENOTSUP,
    "wasi.path_rename": () => ENOTSUP,
    "wasi.path_symlink": () => ENOTSUP,
    "wasi.path_unlink_file": () => ENOTSUP,
    // cpp-host writes an unsigned long (8 bytes) here.
    "wasi.sock_accept": (_fd: number, _flags: number, ret: number) => (mem().setU64(u(ret), 0n) ? ENOTSUP : EFAULT),
    "wasi.sock_recv": (_fd: number, _d: number, _dl: number, _f: number, ret0: number, ret1: number) =>
      (mem().setU32(u(ret0), 0) && mem().setU16(u(ret1), 0) ? ENOTSUP : EFAULT),
    "wasi.sock_send": (_fd: number, _d: number, _dl: number, _f: number, ret: number) => (mem().setU32(u(ret), 0) ? ENOTSUP : EFAULT),
    "wasi.sock_shutdown": () => ENOTSUP,
  };
}
