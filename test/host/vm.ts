// One Envoy worker VM (cpp-host WasmBase + V8 glue): Envoy's load checks, instantiation with
// exactly Envoy's host functions, _initialize under the restricted hostcall set, the root
// context's start/configure, context ids, the current/effective context of each host->VM
// call, deferred after-call actions, VM failure after a trap, ticks and queue notifications.
import { ALLOWED_DURING_MALLOC, ALLOWED_DURING_START, checkModule, envoyHostFunctions, WasmResult,
  type LoadPlan, type WasiSet } from "./envoy-abi.js";
import { parseModule, type ModuleInfo } from "./wasm-binary.js";
import { MetricStore, type MetricIds } from "./metrics.js";
import { SharedData } from "./shared-data.js";
import { GuestMemory, encodeUtf8 } from "./guest-memory.js";
import { RootContext, type HostContext } from "./contexts.js";
import type { NodeInfo, PluginInfo } from "./properties.js";
import { envHostcalls } from "./hostcalls-env.js";
import { wasiHostcalls } from "./hostcalls-wasi.js";
import { FilterConnection, type ConnectionOptions } from "./connection.js";

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN";
export const LogLevel = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 } as const;
export interface LogEntry { level: number; msg: string; ctx: number }
export interface Clock { realtimeNs(): bigint; monotonicNs(): bigint }

export interface VmOptions {
  pluginConfig?: string | Uint8Array;   // the on_configure buffer (PluginConfig.configuration)
  vmConfig?: string | Uint8Array;       // the on_vm_start buffer (VmConfig.configuration)
  vmId?: string;                        // shared-data namespace, property plugin_vm_id
  rootId?: string;                      // property plugin_root_id
  pluginName?: string;                  // property plugin_name
  failurePolicy?: FailurePolicy;        // default FAIL_CLOSED, like Envoy
  metrics?: MetricStore;                // share one between the VMs of one "Envoy process"
  sharedData?: SharedData;              // likewise
  logLevel?: number;                    // Envoy's wasm logger level: proxy_get_log_level, onLog filter
  onLog?: (level: number, msg: string, contextId: number) => void;
  env?: Record<string, string>;         // WASI environ (VmConfig.environment_variables)
  wasi?: WasiSet;                       // which cpp-host WASI table to link against
  clock?: Clock;
  timers?: "manual" | "real";           // manual: only tick() fires proxy_on_tick
  nodeInfo?: NodeInfo;                  // xds.node
  // Which context set_envoy_filter_state acts on: Envoy's older foreign.cc takes the current
  // context; the newest takes the effective one (set_effective_context). Default "current".
  foreignContext?: "current" | "effective";
  maxLogEntries?: number;               // cap of vm.logs (oldest dropped), default 10000
}

export interface FailState { reason: "RuntimeError"; message: string }

// The start or on_vm_start step failed (a trap, e.g. a restricted hostcall during _initialize).
export class StartError extends Error {
  override name = "StartError";
  constructor(message: string, readonly logs: LogEntry[]) { super(message); }
}
// proxy_on_configure returned false or trapped: Envoy rejects the plugin configuration.
export class ConfigureError extends Error {
  override name = "ConfigureError";
  constructor(message: string, readonly logs: LogEntry[]) { super(message); }
}

// Thrown from a host function to trap the calling wasm code (cpp-host returns a wasm Trap).
export class HostTrap extends Error {
  override name = "HostTrap";
}

const toBytes = (v: string | Uint8Array | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : typeof v === "string" ? encodeUtf8(v) : v;

const defaultClock: Clock = {
  realtimeNs: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
  monotonicNs: () => process.hrtime.bigint(),
};

type Exports = Record<string, ((...args: number[]) => number | undefined) | undefined>;

export class WasmVm {
  readonly logs: LogEntry[] = [];
  readonly metrics: MetricStore;
  readonly sharedData: SharedData;
  readonly plan: LoadPlan;
  readonly vmId: string;
  readonly plugin: PluginInfo;
  readonly failurePolicy: FailurePolicy;
  readonly logLevel: number;
  readonly clock: Clock;
  readonly env: [string, string][];
  failed: FailState | undefined;
  rootContextId = 0;
  /**
   * Time accounting for benchmarks (off by default): wall time inside outermost host→VM calls
   * and inside host functions, so guest-only time = exportNs − hostNs.
   */
  readonly profile = { enabled: false, exportNs: 0, hostNs: 0, depth: 0 };

  /** @internal hostcall plumbing */ mem!: GuestMemory;

  /** Size of the module's linear memory in bytes. */
  get memoryBytes(): number {
    return this.mem.byteLength;
  }
  /** @internal */ readonly metricIds: MetricIds;
  /** @internal the context of the innermost host->VM call (cpp-host current_context_) */
  currentContext: HostContext;
  private effectiveContextId = 0;
  private readonly vmContext: RootContext;
  private exports: Exports = {};
  private readonly contexts = new Map<number, HostContext>();
  private nextContextId = 1;
  private restricted: Set<string> | undefined;
  private instantiating = false;
  private afterCallActions: (() => void)[] = [];
  private readonly counters = new Map<string, { n: number }>();
  private tickPeriods = new Map<number, number>();
  private tickTimers = new Map<number, NodeJS.Timeout>();
  private nextDnsToken = 1;
  private closed = false;

  private constructor(readonly opts: VmOptions, info: ModuleInfo) {
    this.plan = checkModule(info, { wasi: opts.wasi ?? "conservative" });
    this.metrics = opts.metrics ?? new MetricStore();
    this.metricIds = this.metrics.forVm();
    this.sharedData = opts.sharedData ?? new SharedData();
    this.vmId = opts.vmId ?? "";
    this.plugin = { pluginName: opts.pluginName ?? "", rootId: opts.rootId ?? "", vmId: this.vmId, node: opts.nodeInfo ?? {} };
    this.failurePolicy = opts.failurePolicy ?? "FAIL_CLOSED";
    this.logLevel = opts.logLevel ?? LogLevel.info;
    this.clock = opts.clock ?? defaultClock;
    this.env = Object.entries(opts.env ?? {});
    this.vmContext = new RootContext(0, toBytes(opts.vmConfig), new Uint8Array(0));
    this.currentContext = this.vmContext;
  }

  // Envoy's sequence for one worker: check + link, _initialize (+ main), then the root context's
  // on_context_create/on_vm_start/on_configure. Throws LoadError, StartError or ConfigureError.
  static async load(wasm: Uint8Array, opts: VmOptions = {}): Promise<WasmVm> {
    const info = parseModule(wasm);
    const vm = new WasmVm(opts, info);
    await vm.instantiate(wasm, info);
    vm.start();
    vm.startRoot();
    return vm;
  }

  get failOpen(): boolean {
    return this.failurePolicy === "FAIL_OPEN";
  }

  // Host calls made so far, per "module.name" (benchmarks report calls per message).
  get callCount(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, c] of this.counters) if (c.n > 0) out.set(name, c.n);
    return out;
  }

  get hostCallTotal(): number {
    let n = 0;
    for (const c of this.counters.values()) n += c.n;
    return n;
  }

  private async instantiate(wasm: Uint8Array, info: ModuleInfo): Promise<void> {
    const table = envoyHostFunctions(this.opts.wasi ?? "conservative", this.plan.abiVersion);
    const impls: Record<string, (...a: any[]) => number | void> = { ...envHostcalls(this), ...wasiHostcalls(this) };
    const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
    for (const qname of table.keys()) {
      const dot = qname.indexOf(".");
      const module = qname.slice(0, dot), name = qname.slice(dot + 1);
      const impl = impls[qname] ?? impls[`wasi.${name}`];
      if (!impl) throw new Error(`harness bug: no implementation for ${qname}`);
      (imports[module] ??= {})[name] = this.wrapHostcall(qname, impl);
    }
    let importedMemory: WebAssembly.Memory | undefined;
    for (const imp of info.imports) {
      if (imp.kind === "memory" && imp.limits) {
        const mem = new WebAssembly.Memory({ initial: imp.limits.min, maximum: imp.limits.max, shared: imp.limits.shared } as WebAssembly.MemoryDescriptor);
        importedMemory ??= mem;
        (imports[imp.module] ??= {})[imp.name] = mem;
      } else if (imp.kind === "table" && imp.limits) {
        (imports[imp.module] ??= {})[imp.name] = new WebAssembly.Table({ initial: imp.limits.min, maximum: imp.limits.max, element: "anyfunc" });
      }
    }
    this.instantiating = true;
    let instance: WebAssembly.Instance;
    try {
      ({ instance } = await WebAssembly.instantiate(wasm as Uint8Array<ArrayBuffer>, imports));
    } catch (e) {
      throw new StartError(`Failed to instantiate Wasm module: ${describe(e)}`, this.logs);
    } finally {
      this.instantiating = false;
    }
    this.exports = instance.exports as unknown as Exports;
    // V8 links the first memory export (cpp-host v8.cc); else the one we created for an import.
    const memExport = info.exports.find((e) => e.kind === "memory");
    const memory = memExport ? (instance.exports[memExport.name] as WebAssembly.Memory) : importedMemory!;
    this.mem = new GuestMemory(memory);
  }

  // Fixed arity avoids a rest-array per call; extra undefined arguments are ignored.
  private wrapHostcall(qname: string, impl: (...a: any[]) => number | void): (...a: any[]) => number | void {
    const counter = { n: 0 };
    this.counters.set(qname, counter);
    return (a?: any, b?: any, c?: any, d?: any, e?: any, f?: any, g?: any, h?: any, i?: any, j?: any, k?: any, l?: any) => {
      counter.n++;
      if (this.instantiating) {
        // A start section runs inside V8's link step, before cpp-host sets any context.
        throw new HostTrap(`${qname} called from the wasm start section (Envoy has no current context there and would crash)`);
      }
      if (this.restricted !== undefined && !this.restricted.has(qname)) throw new HostTrap("restricted_callback");
      if (!this.profile.enabled) return impl(a, b, c, d, e, f, g, h, i, j, k, l);
      const t0 = performance.now();
      try {
        return impl(a, b, c, d, e, f, g, h, i, j, k, l);
      } finally {
        this.profile.hostNs += (performance.now() - t0) * 1e6;
      }
    };
  }

  private start(): void {
    const { startExport, callMain } = this.plan;
    this.restricted = ALLOWED_DURING_START;
    try {
      if (startExport) {
        this.callExport(this.vmContext, startExport);
        if (!this.failed && callMain === "main") this.callExport(this.vmContext, "main", 0, 0);
        else if (!this.failed && callMain === "__main_void") this.callExport(this.vmContext, "__main_void");
      }
    } finally {
      this.restricted = undefined;
    }
    if (this.failed) throw new StartError(this.failed.message, this.logs);
  }

  private startRoot(): void {
    const id = this.allocContextId();
    const root = new RootContext(id, toBytes(this.opts.vmConfig), toBytes(this.opts.pluginConfig));
    this.contexts.set(id, root);
    this.rootContextId = id;
    // ContextBase::onStart: the plugin (and its configuration) is visible during on_context_create.
    const started = this.runCallback(() => {
      if (this.exports.proxy_on_context_create) {
        root.pluginConfigActive = true;
        this.callExport(root, "proxy_on_context_create", id, 0);
        root.pluginConfigActive = false;
      }
      if (!this.failed && this.exports.proxy_on_vm_start) {
        return this.callExport(root, "proxy_on_vm_start", id, root.getBuffer(6)!.size()) !== 0;
      }
      return true;
    });
    if (this.failed) throw new StartError(this.failed.message, this.logs);
    if (!started) throw new StartError("Failed to start base Wasm: proxy_on_vm_start returned false", this.logs);
    const configured = this.runCallback(() => {
      if (!this.exports.proxy_on_configure) return true;
      root.pluginConfigActive = true;
      const r = this.callExport(root, "proxy_on_configure", id, toBytes(this.opts.pluginConfig).length);
      root.pluginConfigActive = false;
      return r !== 0;
    });
    const failure = this.failed as FailState | undefined; // a trap inside on_configure
    if (!configured || failure) {
      const why = failure ? failure.message : "proxy_on_configure returned false";
      const name = this.plugin.pluginName ? ` ${this.plugin.pluginName}` : "";
      throw new ConfigureError(`Failed to configure Wasm plugin${name}: ${why}`, this.logs);
    }
  }

  // ---- contexts and calls ----

  /** @internal */ allocContextId(): number {
    return this.nextContextId++;
  }

  /** @internal */ registerContext(ctx: HostContext): void {
    this.contexts.set(ctx.id, ctx);
  }

  /** @internal */ unregisterContext(id: number): void {
    this.contexts.delete(id);
  }

  get rootContext(): RootContext {
    return this.contexts.get(this.rootContextId) as RootContext;
  }

  hasExport(name: string): boolean {
    return typeof this.exports[name] === "function";
  }

  // cpp-host contextOrEffectiveContext(): an effective context that went away reverts to current.
  /** @internal */ context(): HostContext {
    if (this.effectiveContextId === 0) return this.currentContext;
    return this.contexts.get(this.effectiveContextId) ?? this.currentContext;
  }

  /** @internal */ setEffectiveContext(id: number): number {
    if (!this.contexts.has(id)) return WasmResult.BadArgument;
    this.effectiveContextId = id;
    return WasmResult.Ok;
  }

  // One host->VM call (cpp-host's wrapper around a module function): the context is current and
  // no effective context is set for its duration; a trap fails the VM and the call returns 0.
  /** @internal */ callExport(ctx: HostContext, name: string, ...args: number[]): number {
    const fn = this.exports[name];
    if (!fn) return 0;
    const savedCurrent = this.currentContext, savedEffective = this.effectiveContextId;
    this.currentContext = ctx;
    this.effectiveContextId = 0;
    const prof = this.profile;
    const t0 = prof.enabled && prof.depth++ === 0 ? performance.now() : 0;
    try {
      const r = fn(...args);
      return typeof r === "number" ? r >>> 0 : 0;
    } catch (e) {
      this.fail(name, e);
      return 0;
    } finally {
      this.currentContext = savedCurrent;
      this.effectiveContextId = savedEffective;
      if (prof.enabled && --prof.depth === 0) prof.exportNs += (performance.now() - t0) * 1e6;
    }
  }

  // cpp-host DeferAfterCallActions: actions queued by hostcalls (continue/close stream, ...) run
  // when the ContextBase callback that made the VM call returns.
  /** @internal */ runCallback<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      while (this.afterCallActions.length > 0) this.afterCallActions.shift()!();
    }
  }

  /** @internal */ afterCall(action: () => void): void {
    this.afterCallActions.push(action);
  }

  private fail(name: string, e: unknown): void {
    const message = `Function: ${name} failed: ${describe(e)}`;
    if (!this.failed) this.failed = { reason: "RuntimeError", message };
    this.log(LogLevel.error, message, this.currentContext.id);
  }

  // cpp-host allocMemory: the guest malloc runs on the VM context under the malloc restriction.
  /** @internal */ alloc(size: number): number {
    this.restricted = ALLOWED_DURING_MALLOC;
    let ptr: number;
    try {
      ptr = this.callExport(this.vmContext, this.plan.mallocExport, size);
    } finally {
      this.restricted = undefined;
    }
    if (ptr === 0 || ptr + size > this.mem.size) return 0;
    return ptr;
  }

  // cpp-host copyToPointerSize: empty values are not allocated (pointer 0, size 0).
  /** @internal */ copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.alloc(bytes.length);
      if (ptr === 0 || !this.mem.write(ptr, bytes)) return false;
    }
    return this.mem.setU32(ptrPtr, ptr) && this.mem.setU32(sizePtr, bytes.length);
  }

  /** @internal */ log(level: number, msg: string, ctx: number): void {
    const max = this.opts.maxLogEntries ?? 10000;
    if (this.logs.length >= max) this.logs.splice(0, Math.max(1, this.logs.length - Math.floor(max / 2)));
    this.logs.push({ level, msg, ctx });
    if (level >= this.logLevel) this.opts.onLog?.(level, msg, ctx);
  }

  /** @internal */ foreignContext(): HostContext {
    return this.opts.foreignContext === "effective" ? this.context() : this.currentContext;
  }

  // ---- timers (Envoy Wasm::setTimerPeriod / tickHandler) ----

  /** @internal */ setTickPeriod(rootId: number, ms: number): void {
    this.tickPeriods.set(rootId, ms);
    clearTimeout(this.tickTimers.get(rootId));
    this.tickTimers.delete(rootId);
    if (ms > 0 && this.opts.timers !== "manual") this.armTimer(rootId);
  }

  private armTimer(rootId: number): void {
    if (this.closed) return;
    const ms = this.tickPeriods.get(rootId) ?? 0;
    if (ms <= 0) return;
    const t = setTimeout(() => {
      this.tickTimers.delete(rootId);
      this.fireTick(rootId);
      this.armTimer(rootId); // re-armed with whatever period is current after the tick
    }, ms);
    t.unref();
    this.tickTimers.set(rootId, t);
  }

  private fireTick(rootId: number): void {
    const root = this.contexts.get(rootId);
    if (!root || this.failed || !this.exports.proxy_on_tick) return;
    this.runCallback(() => this.callExport(root, "proxy_on_tick", rootId));
  }

  // Manual timers: fire proxy_on_tick on every root context with a period set. Returns whether
  // a tick was delivered.
  tick(): boolean {
    let fired = false;
    for (const [rootId, ms] of this.tickPeriods) {
      if (ms > 0 && this.contexts.has(rootId) && !this.failed && this.exports.proxy_on_tick) {
        this.fireTick(rootId);
        fired = true;
      }
    }
    return fired;
  }

  tickPeriod(rootId = this.rootContextId): number {
    return this.tickPeriods.get(rootId) ?? 0;
  }

  // ---- shared queues (notifications arrive asynchronously on the registering root) ----

  /** @internal */ registerQueue(name: string, rootId: number): number {
    return this.sharedData.register(this.vmId, name, {
      notify: (token) => {
        const root = this.contexts.get(rootId);
        if (!root || this.failed || this.closed || !this.exports.proxy_on_queue_ready) return;
        this.runCallback(() => this.callExport(root, "proxy_on_queue_ready", rootId, token));
      },
    });
  }

  // ---- envoy_resolve_dns: answered through envoy_on_resolve_dns with the CallData buffer ----

  /** @internal */ resolveDns(address: string): number {
    const token = this.nextDnsToken++;
    const rootId = this.rootContextId;
    void import("node:dns").then(({ promises }) => promises.lookup(address, { all: true })
      .then((list) => list.map((a) => a.address), () => [] as string[]))
      .then((addrs) => this.deliverDns(rootId, token, addrs));
    return token;
  }

  private deliverDns(rootId: number, token: number, addrs: string[]): void {
    const root = this.contexts.get(rootId) as RootContext | undefined;
    if (!root || this.failed || this.closed || !this.exports.envoy_on_resolve_dns) return;
    // 4-byte count, a 4-byte TTL per entry, then NUL-terminated addresses.
    const parts = addrs.map((a) => encodeUtf8(a));
    const size = addrs.length ? 4 + 4 * addrs.length + parts.reduce((n, p) => n + p.length + 1, 0) : 0;
    const buf = new Uint8Array(size);
    if (size) {
      const dv = new DataView(buf.buffer);
      dv.setUint32(0, addrs.length, true);
      let p = 4 + 4 * addrs.length;
      for (const part of parts) { buf.set(part, p); p += part.length + 1; }
    }
    root.callData = { size: () => buf.length, bytes: (s, l) => buf.subarray(s, s + l), set: () => WasmResult.BadArgument };
    try {
      this.runCallback(() => this.callExport(root, "envoy_on_resolve_dns", rootId, token, size));
    } finally {
      root.callData = undefined;
    }
  }

  // ---- connections ----

  // A downstream connection through [this VM's filter, tcp_proxy]; call start() on it.
  newConnection(opts: Omit<ConnectionOptions, "vm"> = {}): FilterConnection {
    return new FilterConnection({ ...opts, vm: this });
  }

  // Stops timers and notifications (the VM stays usable for direct calls).
  close(): void {
    this.closed = true;
    for (const t of this.tickTimers.values()) clearTimeout(t);
    this.tickTimers.clear();
  }
}

function describe(e: unknown): string {
  if (e instanceof HostTrap) return e.message;
  if (e instanceof Error) return `Uncaught ${e.name}: ${e.message}`;
  return String(e);
}
