import { parseConfig, configError, Expose, OnError, Protocol } from "../../assembly/config/config";
import { parseJson, jsonError, JsonKind } from "../../assembly/config/json";

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function rejects(text: string, expected: string): void {
  const cfg = parseConfig(utf8(text));
  expect(cfg).toBeNull(text);
  expect(configError).toBe(expected, text);
}

describe("plugin configuration", () => {
  it("uses the defaults for an empty buffer (Istio sends one when pluginConfig is absent)", () => {
    const cfg = parseConfig(new Uint8Array(0))!;
    expect(cfg.onError).toBe(OnError.Passthrough);
    expect(cfg.expose).toBe(Expose.First);
    expect(cfg.redis.limits.maxDepth).toBe(128);
    expect(parseConfig(utf8("  \n"))).not.toBeNull();
    expect(parseConfig(utf8("{}"))).not.toBeNull();
  });

  it("reads every field", () => {
    const cfg = parseConfig(utf8('{"protocol":"redis","on_error":"close","expose":{"properties":"every"},"log_requests":true,' +
      '"redis":{"max_bulk_bytes":1048576,"max_line_bytes":1024,"max_elements":10,"max_total_elements":100,"max_depth":8,"max_key_bytes":16,"max_pending":4}}'))!;
    expect(cfg.onError).toBe(OnError.Close);
    expect(cfg.expose).toBe(Expose.Every);
    expect(cfg.logRequests).toBe(true);
    expect(cfg.redis.limits.maxBulkBytes).toBe(1048576);
    expect(cfg.redis.limits.maxLineBytes).toBe(1024);
    expect(cfg.redis.limits.maxElements).toBe(10);
    expect(cfg.redis.limits.maxTotalElements).toBe(100);
    expect(cfg.redis.limits.maxDepth).toBe(8);
    expect(cfg.redis.limits.maxKeyCapture).toBe(16);
    expect(cfg.redis.maxPending).toBe(4);
    const t = parseConfig(utf8('{"protocol":"thrift","thrift":{"max_frame_bytes":1024,"max_depth":8,"max_unframed_bytes":4096,"max_name_bytes":64,"max_headers":4,"max_header_bytes":512,"lax_binary_unframed":true,"max_pending":16}}'))!;
    expect(t.protocol).toBe(Protocol.Thrift);
    expect(t.thrift.limits.maxFrameBytes).toBe(1024);
    expect(t.thrift.limits.maxDepth).toBe(8);
    expect(t.thrift.limits.maxUnframedBytes).toBe(4096);
    expect(t.thrift.limits.maxNameBytes).toBe(64);
    expect(t.thrift.limits.maxHeaders).toBe(4);
    expect(t.thrift.limits.maxHeaderBytes).toBe(512);
    expect(t.thrift.limits.laxBinaryUnframed).toBe(true);
    expect(t.thrift.maxPending).toBe(16);
    const d = parseConfig(utf8('{"protocol":"dubbo","dubbo":{"max_body_bytes":1024,"max_depth":8,"max_string_bytes":128,"max_attachments":4,"max_class_defs":16,"max_capture_bytes":2048,"max_pending":32}}'))!;
    expect(d.protocol).toBe(Protocol.Dubbo);
    expect(d.dubbo.limits.maxBodyBytes).toBe(1024);
    expect(d.dubbo.limits.maxDepth).toBe(8);
    expect(d.dubbo.limits.maxStringBytes).toBe(128);
    expect(d.dubbo.limits.maxAttachments).toBe(4);
    expect(d.dubbo.limits.maxClassDefs).toBe(16);
    expect(d.dubbo.limits.maxCaptureBytes).toBe(2048);
    expect(d.dubbo.maxPending).toBe(32);
    expect(parseConfig(utf8('{"protocol":"auto"}'))!.auto).toBe(true);
    expect(d.auto).toBe(false);
  });

  it("names the JSON path and the reason of the first problem", () => {
    rejects('{"protocl":"redis"}', "$.protocl: unknown field (allowed: protocol, on_error, expose, log_requests, redis, thrift, dubbo)");
    rejects('{"protocol":"memcached"}', '$.protocol: expected one of redis, thrift, dubbo, auto, got "memcached"');
    rejects('{"dubbo":{"max_depth":0}}', "$.dubbo.max_depth: expected an integer from 1 to 256, got 0.0");
    rejects('{"thrift":{"max_depth":65}}', "$.thrift.max_depth: expected an integer from 1 to 64, got 65.0");
    rejects('{"thrift":{"lax_binary_unframed":1}}', "$.thrift.lax_binary_unframed: expected true or false, got number");
    rejects('{"protocol":7}', "$.protocol: expected a string, got number");
    rejects('{"on_error":"ignore"}', '$.on_error: expected one of passthrough, close, got "ignore"');
    rejects('{"expose":true}', "$.expose: expected an object, got boolean");
    rejects('{"expose":{"properties":"all"}}', '$.expose.properties: expected one of off, first, every, got "all"');
    rejects('{"log_requests":"yes"}', "$.log_requests: expected true or false, got string");
    rejects('{"redis":{"max_depth":0}}', "$.redis.max_depth: expected an integer from 1 to 1024, got 0.0");
    rejects('{"redis":{"max_depth":2.5}}', "$.redis.max_depth: expected an integer from 1 to 1024, got 2.5");
    rejects('{"redis":{"max_pending":"8"}}', "$.redis.max_pending: expected an integer from 1 to 1048576, got string");
    rejects('{"redis":{"depth":8}}', "$.redis.depth: unknown field (allowed: max_bulk_bytes, max_line_bytes, max_elements, max_total_elements, max_depth, max_key_bytes, max_pending)");
    rejects("[1]", "$: expected an object, got array");
  });

  it("reports malformed JSON with a position instead of trapping", () => {
    rejects('{"protocol":', "$: invalid JSON: unexpected end of input at byte 12");
    rejects('{"a":1,}', "$: invalid JSON: expected a member name at byte 7");
    rejects('{"a":1} x', "$: invalid JSON: unexpected trailing characters at byte 8");
    rejects('{"a":"\\q"}', "$: invalid JSON: bad escape at byte 7");
    rejects('{"a":1,"a":2}', '$: invalid JSON: duplicate member "a" at byte 10');
  });
});

describe("JSON reader", () => {
  it("decodes escapes, unicode and numbers", () => {
    const v = parseJson(utf8('{"s":"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00","n":-12.5e1,"z":0,"t":true,"f":false,"x":null,"a":[1,[2]]}'))!;
    expect(v.get("s")!.stringValue).toBe("a\"b\\c\né😀");
    expect(v.get("n")!.numberValue).toBe(-125.0);
    expect(v.get("z")!.isInteger()).toBe(true);
    expect(v.get("t")!.boolValue).toBe(true);
    expect(v.get("f")!.kind).toBe(JsonKind.Bool);
    expect(v.get("x")!.kind).toBe(JsonKind.Null);
    expect(v.get("a")!.items.length).toBe(2);
    expect(parseJson(utf8('"\u00e9"'))!.stringValue).toBe("é");
  });

  it("rejects what JSON rejects", () => {
    const bad = ["", "{", "[", "01", "1.", "-", "+1", ".5", "1e", "tru", "nul", "\"abc", "{\"a\" 1}", "[1 2]", "{1:2}", "\"\t\"", "'a'", "[1,]"];
    for (let i = 0; i < bad.length; i++) {
      expect(parseJson(utf8(bad[i]))).toBeNull(bad[i]);
      expect(jsonError.length).toBeGreaterThan(0, bad[i]);
    }
  });

  it("caps nesting so a hostile document cannot exhaust the stack", () => {
    expect(parseJson(utf8("[".repeat(64) + "]".repeat(64)))).not.toBeNull();
    expect(parseJson(utf8("[".repeat(100000)))).toBeNull();
    expect(jsonError).toBe("nesting deeper than 64 at byte 65");
  });

  it("never traps on truncated or mutated documents", () => {
    const doc = '{"protocol":"redis","expose":{"properties":"every"},"redis":{"max_depth":8,"x":[1,2,{"y":"\\u0041"}]}}';
    for (let cut = 0; cut <= doc.length; cut++) parseConfig(utf8(doc.substring(0, cut)));
    let seed: u32 = 12345;
    for (let i = 0; i < 2000; i++) {
      const b = utf8(doc);
      for (let k = 0; k < 3; k++) {
        seed = seed * 1103515245 + 12345;
        const at = <i32>((seed >>> 8) % <u32>b.length);
        seed = seed * 1103515245 + 12345;
        b[at] = <u8>(seed >>> 16);
      }
      parseConfig(b);
    }
    expect(true).toBe(true);
  });
});
