// Rule sets for the policy-cost table of `npm run bench`: what routes and policies add per request
// on the pipelined GET stream (keys key:0 … key:999). Non-matching rules make every request test
// every rule, the worst case of first-match evaluation.

export interface RuleSet { name: string; config: object; /** Every reply is replaced by an error. */ denies?: boolean }

/** Clusters the route rule sets name; the harness connection must know them (tcp_proxy closes on an unknown one). */
export function routeClusters(n: number): Record<string, string> {
  const clusters: Record<string, string> = { default: "127.0.0.1:1" };
  for (let i = 0; i < n; i++) clusters[`c${i}`] = "127.0.0.1:1";
  return clusters;
}

const exactMiss = (i: number) => ({ name: `p${i}`, match: { method: { exact: `NOPE${i}` } }, deny: {} });
const regexMiss = (i: number) => ({ name: `p${i}`, match: { key: { regex: `user:[0-9]+:${i}` } }, deny: {} });
/** Routes on the key; only the last one matches (key prefix), so each request walks them all. */
const routes = (n: number) => Array.from({ length: n }, (_, i) =>
  i === n - 1 ? { name: `r${i}`, match: { key: { prefix: "key:" } }, cluster: `c${i}` } : { name: `r${i}`, match: { key: { prefix: `other${i}:` } }, cluster: `c${i}` });

export function ruleSets(): RuleSet[] {
  const redis = { protocol: "redis" };
  return [
    { name: "no rules", config: redis },
    { name: "10 policies, exact, none match", config: { ...redis, policies: Array.from({ length: 10 }, (_, i) => exactMiss(i)) } },
    { name: "100 policies, exact, none match", config: { ...redis, policies: Array.from({ length: 100 }, (_, i) => exactMiss(i)) } },
    { name: "10 policies, regex on key, none match", config: { ...redis, policies: Array.from({ length: 10 }, (_, i) => regexMiss(i)) } },
    { name: "100 policies, regex on key, none match", config: { ...redis, policies: Array.from({ length: 100 }, (_, i) => regexMiss(i)) } },
    { name: "10 routes, last matches", config: { ...redis, routes: routes(10) } },
    { name: "100 routes, last matches", config: { ...redis, routes: routes(100) } },
    { name: "fault abort 0 % + delay 0 %", config: { ...redis, policies: [{ name: "f", fault: { abort: { percent: 0 }, delay: { percent: 0, ms: 10 } } }] } },
    { name: "rate limit, worker bucket, admits all", config: { ...redis, policies: [{ name: "rl", rate_limit: { per_second: 1e9, burst: 1e9 } }] } },
    { name: "rate limit, shared bucket (CAS), admits all", config: { ...redis, policies: [{ name: "rl", rate_limit: { per_second: 1e9, burst: 1e9, scope: "shared" } }] } },
    { name: "deny every request (both rewrites)", config: { ...redis, policies: [{ name: "d", match: { method: { exact: "GET" } }, deny: { message: "no" } }] }, denies: true },
  ];
}
