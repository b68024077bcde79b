import { parseConfig, configError, Expose, OnError, Protocol } from "../../assembly/config/config";
import { parseJson, jsonError, JsonKind } from "../../assembly/config/json";
import { compileRegex, regexError } from "../../assembly/policy/regex";
import { Field, LimitScope, MatchOp, OnMismatch, PolicyAction, StringMatcher } from "../../assembly/config/policy-config";

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function text(b: Uint8Array): string {
  return String.UTF8.decode(b.buffer);
}

function bytesOf(b: Uint8Array | null): string {
  return b == null ? "<null>" : text(b);
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
    rejects('{"protocl":"redis"}', "$.protocl: unknown field (allowed: protocol, on_error, expose, log_requests, telemetry, redis, thrift, dubbo, routes, routing, policies, max_hold_bytes)");
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
    rejects('{"redis":{"depth":8}}', "$.redis.depth: unknown field (allowed: max_bulk_bytes, max_line_bytes, max_elements, max_total_elements, max_depth, max_key_bytes, max_pending, auth)");
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

function matcher(json: string): StringMatcher {
  const cfg = parseConfig(utf8('{"policies":[{"name":"p","match":{' + json + '},"deny":{}}]}'));
  expect(cfg).not.toBeNull(configError);
  return cfg!.policies[0].matchers[0];
}

describe("routes, routing, policies, max_hold_bytes and redis.auth", () => {
  it("defaults: no routes, no policies, no auth, routing allow after 1000 ms, 64 KiB hold", () => {
    const cfg = parseConfig(utf8("{}"))!;
    expect(cfg.routes.length).toBe(0);
    expect(cfg.policies.length).toBe(0);
    expect(cfg.redis.auth).toBeNull();
    expect(cfg.routing.waitMs).toBe(1000);
    expect(cfg.routing.onMismatch).toBe(OnMismatch.Allow);
    expect(cfg.maxHoldBytes).toBe(65536);
    expect(cfg.enforces()).toBe(false);
  });

  it("reads routes: matchers in written order, single cluster, weighted clusters", () => {
    const cfg = parseConfig(utf8('{"routes":[' +
      '{"name":"by-method","match":{"method":{"prefix":"get"},"header.x-user":{"present":true},"service":{"suffix":"Svc"}},"cluster":"v2"},' +
      '{"name":"split","clusters":[{"name":"v1","weight":90},{"name":"v2","weight":10},{"name":"off","weight":0}]},' +
      '{"name":"all","match":{},"cluster":"fallback"}]}'))!;
    expect(cfg).not.toBeNull(configError);
    expect(cfg.enforces()).toBe(true);
    expect(cfg.routes.length).toBe(3);
    const r0 = cfg.routes[0];
    expect(r0.name).toBe("by-method");
    expect(r0.matchers.length).toBe(3);
    expect(r0.matchers[0].field).toBe(Field.Method);
    expect(r0.matchers[0].op).toBe(MatchOp.Prefix);
    expect(text(r0.matchers[0].pattern)).toBe("get");
    expect(r0.matchers[1].field).toBe(Field.Header);
    expect(text(r0.matchers[1].headerName)).toBe("x-user");
    expect(r0.matchers[1].op).toBe(MatchOp.Present);
    expect(r0.matchers[1].present).toBe(true);
    expect(r0.matchers[2].field).toBe(Field.Service);
    expect(r0.matchers[2].op).toBe(MatchOp.Suffix);
    expect(r0.clusters.length).toBe(1);
    expect(r0.clusters[0].name).toBe("v2");
    expect(r0.clusters[0].weight).toBe(1);
    expect(r0.totalWeight).toBe(1);
    const r1 = cfg.routes[1];
    expect(r1.matchers.length).toBe(0);
    expect(r1.clusters.length).toBe(3);
    expect(r1.clusters[0].name).toBe("v1");
    expect(r1.clusters[0].weight).toBe(90);
    expect(r1.clusters[1].weight).toBe(10);
    expect(r1.clusters[2].weight).toBe(0);
    expect(r1.totalWeight).toBe(100);
    expect(cfg.routes[2].matchers.length).toBe(0);
  });

  it("reads every match field and operator", () => {
    const fields = ["protocol", "service", "method", "key", "version", "group"];
    for (let i = 0; i < fields.length; i++) {
      expect(matcher('"' + fields[i] + '":{"exact":"x"}').field).toBe(<Field>i, fields[i]);
    }
    const e = matcher('"method":{"exact":""}');
    expect(e.op).toBe(MatchOp.Exact);
    expect(e.pattern.length).toBe(0);
    expect(e.ignoreCase).toBe(false);
    expect(matcher('"key":{"contains":":"}').op).toBe(MatchOp.Contains);
    const ic = matcher('"method":{"prefix":"GeT_É","ignore_case":true}');
    expect(ic.ignoreCase).toBe(true);
    expect(text(ic.pattern)).toBe("get_É");   // ASCII folding only
    expect(matcher('"method":{"suffix":"X","ignore_case":false}').ignoreCase).toBe(false);
    expect(text(matcher('"method":{"suffix":"X","ignore_case":false}').pattern)).toBe("X");
    const absent = matcher('"header.trace":{"present":false}');
    expect(absent.op).toBe(MatchOp.Present);
    expect(absent.present).toBe(false);
    const utf = matcher('"header.é":{"exact":"ü"}');
    expect(utf.headerName.length).toBe(2);
    expect(utf.pattern.length).toBe(2);
    expect(matcher('"header.' + "h".repeat(256) + '":{"present":true}').headerName.length).toBe(256);
  });

  it("compiles regex matchers", () => {
    const m = matcher('"method":{"regex":"(?i)get.*"}');
    expect(m.op).toBe(MatchOp.Regex);
    expect(m.regex).not.toBeNull();
    rejects('{"routes":[{"name":"r","match":{"method":{"regex":"(unclosed"}},"cluster":"c"}]}',
      "$.routes[0].match.method.regex: invalid regex: " + (compileRegex("(unclosed") == null ? regexError : "<compiled>"));
    expect(configError.startsWith("$.routes[0].match.method.regex: invalid regex: ")).toBe(true);
  });

  it("reads routing and max_hold_bytes", () => {
    const cfg = parseConfig(utf8('{"routing":{"wait_ms":250,"on_mismatch":"deny","mismatch_message":"wrong shard"},"max_hold_bytes":0}'))!;
    expect(cfg.routing.waitMs).toBe(250);
    expect(cfg.routing.onMismatch).toBe(OnMismatch.Deny);
    expect(cfg.routing.mismatchMessage).toBe("wrong shard");
    expect(cfg.maxHoldBytes).toBe(0);
    expect(parseConfig(utf8('{"max_hold_bytes":16777216}'))!.maxHoldBytes).toBe(16777216);
    const d = parseConfig(utf8('{"routing":{}}'))!;
    expect(d.routing.waitMs).toBe(1000);
    expect(d.routing.mismatchMessage).toBe("request belongs to another route than its connection");
  });

  it("reads deny, fault and rate_limit policies with their defaults", () => {
    const cfg = parseConfig(utf8('{"policies":[' +
      '{"name":"no-flush","match":{"method":{"exact":"FLUSHALL"}},"deny":{"message":"forbidden"}},' +
      '{"name":"deny-default","deny":{}},' +
      '{"name":"chaos","fault":{"abort":{"percent":5,"message":"injected"},"delay":{"percent":1.5,"ms":200}}},' +
      '{"name":"slow","fault":{"delay":{"percent":100,"ms":60000}}},' +
      '{"name":"tiny","fault":{"abort":{"percent":0.00005}}},' +
      '{"name":"rl","match":{"service":{"prefix":"org.shop."}},"rate_limit":{"per_second":100,"burst":200,"scope":"shared","message":"slow down"}},' +
      '{"name":"rl-default","rate_limit":{"per_second":0.5}},' +
      '{"name":"rl-burst","rate_limit":{"per_second":7.5}}]}'))!;
    expect(cfg).not.toBeNull(configError);
    expect(cfg.enforces()).toBe(true);
    const p = cfg.policies;
    expect(p.length).toBe(8);
    expect(p[0].action).toBe(PolicyAction.Deny);
    expect(p[0].message).toBe("forbidden");
    expect(p[0].matchers.length).toBe(1);
    expect(p[1].message).toBe("denied by policy deny-default");
    expect(p[1].matchers.length).toBe(0);
    expect(p[2].action).toBe(PolicyAction.Fault);
    expect(p[2].abortPpm).toBe(50000);
    expect(p[2].delayPpm).toBe(15000);
    expect(p[2].delayMs).toBe(200);
    expect(p[2].message).toBe("injected");
    expect(p[3].abortPpm).toBe(0);
    expect(p[3].delayPpm).toBe(1000000);
    expect(p[3].delayMs).toBe(60000);
    expect(p[3].message).toBe("fault injected by policy slow");
    expect(p[4].abortPpm).toBe(1);   // 0.5 ppm rounds up
    expect(p[4].message).toBe("fault injected by policy tiny");
    expect(p[5].action).toBe(PolicyAction.RateLimit);
    expect(p[5].perSecond).toBe(100.0);
    expect(p[5].burst).toBe(200.0);
    expect(p[5].scope).toBe(LimitScope.Shared);
    expect(p[5].message).toBe("slow down");
    expect(p[6].perSecond).toBe(0.5);
    expect(p[6].burst).toBe(1.0);
    expect(p[6].scope).toBe(LimitScope.Worker);
    expect(p[6].message).toBe("rate limited by policy rl-default");
    expect(p[7].burst).toBe(7.5);
  });

  it("reads redis.auth", () => {
    const cfg = parseConfig(utf8('{"redis":{"auth":{"password":"s3cret","users":[{"username":"alice","password":"pw"},{"username":"bob","password":"pé"}],"upstream":{"username":"svc","password":"pw2"}}}}'))!;
    expect(cfg).not.toBeNull(configError);
    const a = cfg.redis.auth!;
    expect(bytesOf(a.password)).toBe("s3cret");
    expect(a.users.length).toBe(2);
    expect(text(a.users[0].username)).toBe("alice");
    expect(text(a.users[0].password)).toBe("pw");
    expect(a.users[1].password.length).toBe(3);
    expect(bytesOf(a.upstreamUsername)).toBe("svc");
    expect(bytesOf(a.upstreamPassword)).toBe("pw2");
    expect(cfg.enforces()).toBe(true);
    const up = parseConfig(utf8('{"redis":{"auth":{"upstream":{"password":"x"}}}}'))!.redis.auth!;
    expect(up.upstreamUsername).toBeNull();
    expect(up.enforcesDownstream()).toBe(false);
    expect(up.injectsUpstream()).toBe(true);
    expect(parseConfig(utf8('{"redis":{"auth":{"upstream":{"password":"x"}}}}'))!.enforces()).toBe(false);
    const users = parseConfig(utf8('{"redis":{"auth":{"users":[{"username":"u","password":"p"}]}}}'))!.redis.auth!;
    expect(users.password).toBeNull();
    expect(users.enforcesDownstream()).toBe(true);
  });

  it("names the path and reason of route errors", () => {
    rejects('{"routes":{}}', "$.routes: expected an array, got object");
    rejects('{"routes":[1]}', "$.routes[0]: expected an object, got number");
    rejects('{"routes":[{"cluster":"c"}]}', "$.routes[0].name: required field is missing");
    rejects('{"routes":[{"name":"","cluster":"c"}]}', "$.routes[0].name: expected a non-empty string");
    rejects('{"routes":[{"name":7,"cluster":"c"}]}', "$.routes[0].name: expected a non-empty string, got number");
    rejects('{"routes":[{"name":"a","cluster":"c"},{"name":"b","cluster":"c"},{"name":"a","cluster":"d"}]}',
      '$.routes[2].name: duplicate route name "a" (also $.routes[0].name)');
    rejects('{"routes":[{"name":"' + "n".repeat(257) + '","cluster":"c"}]}', "$.routes[0].name: expected at most 256 bytes, got 257");
    rejects('{"routes":[{"name":"a\\nb","cluster":"c"}]}', "$.routes[0].name: must not contain CR or LF");
    rejects('{"routes":[{"name":"r"}]}', "$.routes[0]: expected exactly one of cluster, clusters, got none");
    rejects('{"routes":[{"name":"r","cluster":"a","clusters":[{"name":"b","weight":1}]}]}', "$.routes[0]: expected exactly one of cluster, clusters, got both");
    rejects('{"routes":[{"name":"r","cluster":""}]}', "$.routes[0].cluster: expected a non-empty string");
    rejects('{"routes":[{"name":"r","clusters":[]}]}', "$.routes[0].clusters: expected 1 to 64 clusters, got 0");
    rejects('{"routes":[{"name":"r","clusters":[' + '{"name":"c","weight":1},'.repeat(64) + '{"name":"c","weight":1}]}]}', "$.routes[0].clusters: expected at most 64 clusters, got 65");
    rejects('{"routes":[{"name":"r","clusters":[{"name":"a","weight":0},{"name":"b","weight":0}]}]}', "$.routes[0].clusters: expected the weights to add up to more than 0");
    rejects('{"routes":[{"name":"r","clusters":[{"name":"a","weight":1000001}]}]}', "$.routes[0].clusters[0].weight: expected an integer from 0 to 1000000, got 1000001.0");
    rejects('{"routes":[{"name":"r","clusters":[{"name":"a","weight":1.5}]}]}', "$.routes[0].clusters[0].weight: expected an integer from 0 to 1000000, got 1.5");
    rejects('{"routes":[{"name":"r","clusters":[{"name":"a"}]}]}', "$.routes[0].clusters[0].weight: required field is missing");
    rejects('{"routes":[{"name":"r","clusters":[{"weight":1}]}]}', "$.routes[0].clusters[0].name: required field is missing");
    rejects('{"routes":[{"name":"r","clusters":[{"name":"a","weight":1,"w":2}]}]}', "$.routes[0].clusters[0].w: unknown field (allowed: name, weight)");
    rejects('{"routes":[{"name":"r","cluster":"c","priority":1}]}', "$.routes[0].priority: unknown field (allowed: name, match, cluster, clusters)");
    let many = '{"routes":[';
    for (let i = 0; i <= 1000; i++) many += (i > 0 ? "," : "") + '{"name":"r' + i.toString() + '","cluster":"c"}';
    rejects(many + "]}", "$.routes: expected at most 1000 routes, got 1001");
  });

  it("names the path and reason of match errors", () => {
    const r = '{"routes":[{"name":"r","cluster":"c","match":';
    rejects(r + '[]}]}', "$.routes[0].match: expected an object, got array");
    rejects(r + '{"methd":{"exact":"GET"}}}]}', "$.routes[0].match.methd: unknown field (allowed: protocol, service, method, key, version, group, header.<name>)");
    rejects(r + '{"header.":{"present":true}}}]}', '$.routes[0].match["header."]: expected a header name of 1 to 256 bytes after "header.", got 0');
    rejects(r + '{"header.' + "h".repeat(257) + '":{"present":true}}}]}',
      '$.routes[0].match["header.' + "h".repeat(257) + '"]: expected a header name of 1 to 256 bytes after "header.", got 257');
    rejects(r + '{"method":"GET"}}]}', "$.routes[0].match.method: expected an object, got string");
    rejects(r + '{"method":{}}}]}', "$.routes[0].match.method: expected exactly one of exact, prefix, suffix, contains, regex, present");
    rejects(r + '{"method":{"exact":"a","prefix":"b"}}}]}', "$.routes[0].match.method: expected exactly one of exact, prefix, suffix, contains, regex, present, got exact and prefix");
    rejects(r + '{"method":{"equals":"a"}}}]}', "$.routes[0].match.method.equals: unknown field (allowed: exact, prefix, suffix, contains, regex, present, ignore_case)");
    rejects(r + '{"method":{"prefix":""}}}]}', "$.routes[0].match.method.prefix: expected a non-empty string");
    rejects(r + '{"method":{"suffix":""}}}]}', "$.routes[0].match.method.suffix: expected a non-empty string");
    rejects(r + '{"method":{"contains":""}}}]}', "$.routes[0].match.method.contains: expected a non-empty string");
    rejects(r + '{"method":{"regex":""}}}]}', "$.routes[0].match.method.regex: expected a non-empty string");
    rejects(r + '{"method":{"exact":1}}}]}', "$.routes[0].match.method.exact: expected a string, got number");
    rejects(r + '{"header.x-a":{"present":"yes"}}}]}', '$.routes[0].match["header.x-a"].present: expected true or false, got string');
    rejects(r + '{"method":{"present":true,"ignore_case":true}}}]}', "$.routes[0].match.method.ignore_case: only allowed with exact, prefix, suffix or contains");
    rejects(r + '{"method":{"regex":"a","ignore_case":false}}}]}', "$.routes[0].match.method.ignore_case: only allowed with exact, prefix, suffix or contains");
    rejects(r + '{"method":{"exact":"a","ignore_case":"yes"}}}]}', "$.routes[0].match.method.ignore_case: expected true or false, got string");
    rejects(r + '{"header.a\\"b":{"exact":"a","x":1}}}]}', '$.routes[0].match["header.a\\"b"].x: unknown field (allowed: exact, prefix, suffix, contains, regex, present, ignore_case)');
  });

  it("names the path and reason of routing and max_hold_bytes errors", () => {
    rejects('{"routing":[]}', "$.routing: expected an object, got array");
    rejects('{"routing":{"wait_ms":0}}', "$.routing.wait_ms: expected an integer from 1 to 60000, got 0.0");
    rejects('{"routing":{"wait_ms":60001}}', "$.routing.wait_ms: expected an integer from 1 to 60000, got 60001.0");
    rejects('{"routing":{"on_mismatch":"close"}}', '$.routing.on_mismatch: expected one of allow, deny, got "close"');
    rejects('{"routing":{"mismatch_message":"a\\r\\nb"}}', "$.routing.mismatch_message: must not contain CR or LF");
    rejects('{"routing":{"mismatch_message":null}}', "$.routing.mismatch_message: expected a string, got null");
    rejects('{"routing":{"timeout":1}}', "$.routing.timeout: unknown field (allowed: wait_ms, on_mismatch, mismatch_message)");
    rejects('{"max_hold_bytes":16777217}', "$.max_hold_bytes: expected an integer from 0 to 16777216, got 16777217.0");
    rejects('{"max_hold_bytes":-1}', "$.max_hold_bytes: expected an integer from 0 to 16777216, got -1.0");
  });

  it("names the path and reason of policy errors", () => {
    rejects('{"policies":"deny"}', "$.policies: expected an array, got string");
    rejects('{"policies":[{"deny":{}}]}', "$.policies[0].name: required field is missing");
    rejects('{"policies":[{"name":"p","deny":{}},{"name":"p","deny":{}}]}', '$.policies[1].name: duplicate policy name "p" (also $.policies[0].name)');
    rejects('{"policies":[{"name":"p"}]}', "$.policies[0]: expected exactly one of deny, fault, rate_limit, got none");
    rejects('{"policies":[{"name":"p","deny":{},"rate_limit":{"per_second":1}}]}', "$.policies[0]: expected exactly one of deny, fault, rate_limit, got deny and rate_limit");
    rejects('{"policies":[{"name":"p","allow":{}}]}', "$.policies[0].allow: unknown field (allowed: name, match, deny, fault, rate_limit)");
    rejects('{"policies":[{"name":"p","deny":true}]}', "$.policies[0].deny: expected an object, got boolean");
    rejects('{"policies":[{"name":"p","deny":{"message":"a\\nb"}}]}', "$.policies[0].deny.message: must not contain CR or LF");
    rejects('{"policies":[{"name":"p","deny":{"message":"' + "m".repeat(1025) + '"}}]}', "$.policies[0].deny.message: expected at most 1024 bytes, got 1025");
    rejects('{"policies":[{"name":"p","deny":{"message":"' + "é".repeat(513) + '"}}]}', "$.policies[0].deny.message: expected at most 1024 bytes, got 1026");
    expect(parseConfig(utf8('{"policies":[{"name":"p","deny":{"message":"' + "m".repeat(1024) + '"}}]}'))).not.toBeNull();
    rejects('{"policies":[{"name":"p","deny":{"code":1}}]}', "$.policies[0].deny.code: unknown field (allowed: message)");
    rejects('{"policies":[{"name":"p","fault":{}}]}', "$.policies[0].fault: expected at least one of abort, delay");
    rejects('{"policies":[{"name":"p","fault":{"abort":{}}}]}', "$.policies[0].fault.abort.percent: required field is missing");
    rejects('{"policies":[{"name":"p","fault":{"abort":{"percent":150}}}]}', "$.policies[0].fault.abort.percent: expected a number from 0 to 100, got 150");
    rejects('{"policies":[{"name":"p","fault":{"abort":{"percent":-0.5}}}]}', "$.policies[0].fault.abort.percent: expected a number from 0 to 100, got -0.5");
    rejects('{"policies":[{"name":"p","fault":{"abort":{"percent":"5"}}}]}', "$.policies[0].fault.abort.percent: expected a number from 0 to 100, got string");
    rejects('{"policies":[{"name":"p","fault":{"abort":{"percent":5,"message":"x\\r"}}}]}', "$.policies[0].fault.abort.message: must not contain CR or LF");
    rejects('{"policies":[{"name":"p","fault":{"delay":{"percent":5}}}]}', "$.policies[0].fault.delay.ms: required field is missing");
    rejects('{"policies":[{"name":"p","fault":{"delay":{"ms":5}}}]}', "$.policies[0].fault.delay.percent: required field is missing");
    rejects('{"policies":[{"name":"p","fault":{"delay":{"percent":5,"ms":0}}}]}', "$.policies[0].fault.delay.ms: expected an integer from 1 to 60000, got 0.0");
    rejects('{"policies":[{"name":"p","fault":{"delay":{"percent":5,"ms":60001}}}]}', "$.policies[0].fault.delay.ms: expected an integer from 1 to 60000, got 60001.0");
    rejects('{"policies":[{"name":"p","fault":{"delay":{"percent":5,"ms":10,"jitter":1}}}]}', "$.policies[0].fault.delay.jitter: unknown field (allowed: percent, ms)");
    rejects('{"policies":[{"name":"p","rate_limit":{}}]}', "$.policies[0].rate_limit.per_second: required field is missing");
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":0}}]}', "$.policies[0].rate_limit.per_second: expected a number greater than 0 and at most 1000000000, got 0");
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":1e10}}]}', "$.policies[0].rate_limit.per_second: expected a number greater than 0 and at most 1000000000, got 10000000000");
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":1e400}}]}', "$.policies[0].rate_limit.per_second: expected a number greater than 0 and at most 1000000000, got Infinity");
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":10,"burst":0.5}}]}', "$.policies[0].rate_limit.burst: expected a number from 1 to 1000000000000, got 0.5");
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":10,"scope":"global"}}]}', '$.policies[0].rate_limit.scope: expected one of worker, shared, got "global"');
    rejects('{"policies":[{"name":"p","rate_limit":{"per_second":10,"message":"' + "m".repeat(1025) + '"}}]}', "$.policies[0].rate_limit.message: expected at most 1024 bytes, got 1025");
    rejects('{"policies":[{"name":"p","match":{"key":{"prefix":""}},"deny":{}}]}', "$.policies[0].match.key.prefix: expected a non-empty string");
    let many = '{"policies":[';
    for (let i = 0; i <= 1000; i++) many += (i > 0 ? "," : "") + '{"name":"p' + i.toString() + '","deny":{}}';
    rejects(many + "]}", "$.policies: expected at most 1000 policies, got 1001");
  });

  it("names the path and reason of redis.auth errors", () => {
    rejects('{"redis":{"auth":"pw"}}', "$.redis.auth: expected an object, got string");
    rejects('{"redis":{"auth":{}}}', "$.redis.auth: expected at least one of password, users (non-empty) or upstream");
    rejects('{"redis":{"auth":{"users":[]}}}', "$.redis.auth: expected at least one of password, users (non-empty) or upstream");
    rejects('{"redis":{"auth":{"password":""}}}', "$.redis.auth.password: expected a non-empty string");
    rejects('{"redis":{"auth":{"password":1}}}', "$.redis.auth.password: expected a non-empty string, got number");
    rejects('{"redis":{"auth":{"users":{}}}}', "$.redis.auth.users: expected an array, got object");
    rejects('{"redis":{"auth":{"users":[{"username":"u"}]}}}', "$.redis.auth.users[0].password: required field is missing");
    rejects('{"redis":{"auth":{"users":[{"username":"","password":"p"}]}}}', "$.redis.auth.users[0].username: expected a non-empty string");
    rejects('{"redis":{"auth":{"users":[{"username":"u","password":"p","role":"admin"}]}}}', "$.redis.auth.users[0].role: unknown field (allowed: username, password)");
    rejects('{"redis":{"auth":{"upstream":{}}}}', "$.redis.auth.upstream.password: required field is missing");
    rejects('{"redis":{"auth":{"upstream":{"username":"","password":"p"}}}}', "$.redis.auth.upstream.username: expected a non-empty string");
    rejects('{"redis":{"auth":{"acl":true}}}', "$.redis.auth.acl: unknown field (allowed: password, users, upstream)");
    let many = '{"redis":{"auth":{"users":[';
    for (let i = 0; i <= 1000; i++) many += (i > 0 ? "," : "") + '{"username":"u","password":"p"}';
    rejects(many + "]}}}", "$.redis.auth.users: expected at most 1000 users, got 1001");
  });

  it("reports only the first of several problems", () => {
    rejects('{"routes":[{"name":"r"}],"policies":[{"name":"p"}]}', "$.routes[0]: expected exactly one of cluster, clusters, got none");
    rejects('{"redis":{"max_depth":0,"auth":{}},"max_hold_bytes":-1}', "$.redis.max_depth: expected an integer from 1 to 1024, got 0.0");
  });
});

describe("telemetry and credential limits", () => {
  it("defaults: series per service and method, 1000 of them, no request log (info, every request once on)", () => {
    const cfg = parseConfig(utf8("{}"))!;
    expect(cfg.telemetrySeries).toBe(true);
    expect(cfg.maxSeries).toBe(1000);
    expect(cfg.logRequests).toBe(false);
    expect(cfg.logLevel).toBe(2);
    expect(cfg.logSamplePpm).toBe(1000000);
    const empty = parseConfig(utf8('{"telemetry":{}}'))!;
    expect(empty.logRequests).toBe(false);
    expect(empty.telemetrySeries).toBe(true);
    const legacy = parseConfig(utf8('{"log_requests":true}'))!;
    expect(legacy.logRequests).toBe(true);
    expect(legacy.logLevel).toBe(2);
    expect(legacy.logSamplePpm).toBe(1000000);
  });

  it("reads series, max_series and log (its presence turns logging on; levels as proxy-wasm numbers them)", () => {
    const cfg = parseConfig(utf8('{"telemetry":{"series":false,"max_series":0,"log":{"level":"debug","sample_percent":12.5}}}'))!;
    expect(cfg).not.toBeNull(configError);
    expect(cfg.telemetrySeries).toBe(false);
    expect(cfg.maxSeries).toBe(0);
    expect(cfg.logRequests).toBe(true);
    expect(cfg.logLevel).toBe(1);
    expect(cfg.logSamplePpm).toBe(125000);
    expect(parseConfig(utf8('{"telemetry":{"max_series":100000}}'))!.maxSeries).toBe(100000);
    const levels = ["trace", "debug", "info", "warn", "error", "critical"];
    for (let i = 0; i < levels.length; i++) {
      expect(parseConfig(utf8('{"telemetry":{"log":{"level":"' + levels[i] + '"}}}'))!.logLevel).toBe(i, levels[i]);
    }
    const on = parseConfig(utf8('{"log_requests":false,"telemetry":{"log":{}}}'))!;
    expect(on.logRequests).toBe(true);
    expect(on.logLevel).toBe(2);
    expect(on.logSamplePpm).toBe(1000000);
    expect(parseConfig(utf8('{"telemetry":{"log":{"sample_percent":0}}}'))!.logSamplePpm).toBe(0);
    expect(parseConfig(utf8('{"telemetry":{"log":{"sample_percent":100}}}'))!.logSamplePpm).toBe(1000000);
    expect(parseConfig(utf8('{"telemetry":{"log":{"sample_percent":0.0001}}}'))!.logSamplePpm).toBe(1);
    expect(parseConfig(utf8('{"telemetry":{"log":{"sample_percent":50}}}'))!.logSamplePpm).toBe(500000);
  });

  it("names the path and reason of telemetry errors", () => {
    rejects('{"telemetry":true}', "$.telemetry: expected an object, got boolean");
    rejects('{"telemetry":{"histograms":false}}', "$.telemetry.histograms: unknown field (allowed: series, max_series, flush_interval_ms, log)");
    rejects('{"telemetry":{"series":"yes"}}', "$.telemetry.series: expected true or false, got string");
    rejects('{"telemetry":{"max_series":100001}}', "$.telemetry.max_series: expected an integer from 0 to 100000, got 100001.0");
    rejects('{"telemetry":{"max_series":-1}}', "$.telemetry.max_series: expected an integer from 0 to 100000, got -1.0");
    rejects('{"telemetry":{"max_series":1.5}}', "$.telemetry.max_series: expected an integer from 0 to 100000, got 1.5");
    rejects('{"telemetry":{"log":"debug"}}', "$.telemetry.log: expected an object, got string");
    rejects('{"telemetry":{"log":{"format":"json"}}}', "$.telemetry.log.format: unknown field (allowed: level, sample_percent)");
    rejects('{"telemetry":{"log":{"level":"verbose"}}}', '$.telemetry.log.level: expected one of trace, debug, info, warn, error, critical, got "verbose"');
    rejects('{"telemetry":{"log":{"level":2}}}', "$.telemetry.log.level: expected a string, got number");
    rejects('{"telemetry":{"log":{"sample_percent":100.5}}}', "$.telemetry.log.sample_percent: expected a number from 0 to 100, got 100.5");
    rejects('{"telemetry":{"log":{"sample_percent":-1}}}', "$.telemetry.log.sample_percent: expected a number from 0 to 100, got -1.0");
    rejects('{"telemetry":{"log":{"sample_percent":"50"}}}', "$.telemetry.log.sample_percent: expected a number from 0 to 100, got string");
  });

  it("limits downstream credentials to the 128 bytes the filter keeps of an AUTH argument; upstream ones are not compared", () => {
    const p128 = "p".repeat(128), e64 = "é".repeat(64);
    const cfg = parseConfig(utf8('{"redis":{"auth":{"password":"' + p128 + '","users":[{"username":"' + e64 + '","password":"' + p128 + '"}]}}}'))!;
    expect(cfg).not.toBeNull(configError);
    expect(cfg.redis.auth!.password!.length).toBe(128);
    expect(cfg.redis.auth!.users[0].username.length).toBe(128);
    const why = " (the filter compares the bytes it keeps of each AUTH argument)";
    rejects('{"redis":{"auth":{"password":"' + p128 + 'p"}}}', "$.redis.auth.password: at most 128 bytes" + why + ", got 129");
    rejects('{"redis":{"auth":{"users":[{"username":"' + e64 + 'é","password":"p"}]}}}', "$.redis.auth.users[0].username: at most 128 bytes" + why + ", got 130");
    rejects('{"redis":{"auth":{"users":[{"username":"u","password":"' + p128 + 'x"}]}}}', "$.redis.auth.users[0].password: at most 128 bytes" + why + ", got 129");
    const up = parseConfig(utf8('{"redis":{"auth":{"upstream":{"username":"' + p128 + 'u","password":"' + p128 + p128 + '"}}}}'))!;
    expect(up).not.toBeNull(configError);
    expect(up.redis.auth!.upstreamPassword!.length).toBe(256);
  });
});
