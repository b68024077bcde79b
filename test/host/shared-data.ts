// Process-wide shared key/value data and shared queues, as cpp-host keeps them
// (src/shared_data.cc, src/shared_queue.cc): one instance stands for one Envoy process and is
// shared by every VM in it; everything is namespaced by vm_id ("" is a namespace of its own).
import { WasmResult } from "./envoy-abi.js";

export interface QueueOwner { notify(token: number): void }

interface Queue { owner: QueueOwner; items: Uint8Array[] }

export class SharedData {
  private readonly data = new Map<string, Map<string, { value: Uint8Array; cas: number }>>();
  private readonly tokens = new Map<string, Map<string, number>>();   // vm_id -> name -> token
  private readonly queues = new Map<number, Queue>();
  private readonly schedule: (fn: () => void) => void;
  private nextCas: number;
  private nextToken: number;

  // Envoy posts the queue-ready callback to the registering worker's dispatcher, so it runs
  // after the enqueueing call has returned; setImmediate is the closest Node equivalent.
  // firstCas / firstToken exist so tests can reach the u32 wrap-around.
  constructor(opts: { schedule?: (fn: () => void) => void; firstCas?: number; firstToken?: number } = {}) {
    this.schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
    this.nextCas = opts.firstCas ?? 1;
    this.nextToken = opts.firstToken ?? 1;
  }

  get(vmId: string, key: string): { result: number; value?: Uint8Array; cas?: number } {
    const entry = this.data.get(vmId)?.get(key);
    if (!entry) return { result: WasmResult.NotFound };
    return { result: WasmResult.Ok, value: entry.value.slice(), cas: entry.cas };
  }

  // A non-zero cas only matters when the key exists: setting a missing key always succeeds.
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const entry = map.get(key);
    if (entry && cas !== 0 && cas >>> 0 !== entry.cas) return WasmResult.CasMismatch;
    map.set(key, { value: value.slice(), cas: this.takeCas() });
    return WasmResult.Ok;
  }

  // u32 counter starting at 1 that never hands out 0 (0 means "no CAS check").
  private takeCas(): number {
    const cas = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1;
    return cas;
  }

  // Re-registering the same (vm_id, name) keeps the token and the queued items and moves the
  // notifications to the new owner (cpp-host rebinds the queue to the latest root context).
  register(vmId: string, name: string, owner: QueueOwner): number {
    let names = this.tokens.get(vmId);
    if (!names) this.tokens.set(vmId, (names = new Map()));
    let token = names.get(name);
    if (token === undefined) {
      token = this.takeToken();
      names.set(name, token);
      this.queues.set(token, { owner, items: [] });
    } else {
      this.queues.get(token)!.owner = owner;
    }
    return token;
  }

  private takeToken(): number {
    for (;;) {
      const token = this.nextToken;
      this.nextToken = (this.nextToken + 1) >>> 0;
      if (token !== 0 && !this.queues.has(token)) return token;
    }
  }

  resolve(vmId: string, name: string): { result: number; token?: number } {
    const token = this.tokens.get(vmId)?.get(name);
    return token === undefined ? { result: WasmResult.NotFound } : { result: WasmResult.Ok, token };
  }

  enqueue(token: number, bytes: Uint8Array): number {
    const queue = this.queues.get(token);
    if (!queue) return WasmResult.NotFound;
    queue.items.push(bytes.slice());
    const owner = queue.owner;  // the owner at enqueue time is the one Envoy posts to
    this.schedule(() => owner.notify(token));
    return WasmResult.Ok;
  }

  dequeue(token: number): { result: number; value?: Uint8Array } {
    const queue = this.queues.get(token);
    if (!queue) return { result: WasmResult.NotFound };
    const value = queue.items.shift();
    return value === undefined ? { result: WasmResult.Empty } : { result: WasmResult.Ok, value };
  }

  // cpp-host drops a vm_id's data and queues when the last VM with that vm_id goes away.
  deleteVmId(vmId: string): void {
    this.data.delete(vmId);
    for (const token of this.tokens.get(vmId)?.values() ?? []) this.queues.delete(token);
    this.tokens.delete(vmId);
  }
}
