// IDL of the Thrift peers the end-to-end tests run through metawire (test/e2e/thrift-*.test.ts).
// Code is generated at test time by Debian's `thrift --gen js:node` into test/.generated/thrift/
// (see generate.ts) and served/called with the npm `thrift` library.

namespace js metawire.test

enum Color {
  RED = 1,
  GREEN = 2,
  BLUE = 3,
}

struct Point {
  1: double x,
  2: double y,
}

struct Item {
  1: required string name,
  2: i64 id,
  3: double price,
  4: bool active,
  5: binary blob,
  6: list<i32> counts,
  7: map<string, i64> attrs,
  8: set<string> tags,
  9: optional Color color,
  10: optional list<Item> children,
  11: i16 small,
  12: byte tiny,
  // a field id above 15: the compact protocol writes it in the long form
  40: optional Point where,
  41: optional map<i32, list<set<string>>> nested,
}

struct Summary {
  1: i32 count,
  2: i64 total,
  3: double mean,
  4: map<string, list<double>> byTag,
  5: set<i64> ids,
  6: bool anyActive,
  7: binary digest,
  8: optional Item largest,
  9: string label,
}

exception NotFound {
  1: string what,
  2: i32 code,
}

exception Invalid {
  1: string reason,
  2: list<string> fields,
}

service Catalog {
  /** A normal call: struct arguments and results, containers, i64/double/bool/binary. */
  Summary summarize(1: list<Item> items, 2: string label),
  /** Echoes a payload (the tests send ≥ 1 MiB). */
  binary echoBlob(1: binary data),
  string echoText(1: string text),
  /** Fire and forget; `recorded` tells how many the server got. */
  oneway void record(1: string event, 2: i64 at),
  i32 recorded(),
  /** id 404 throws NotFound, id < 0 throws Invalid (declared exceptions). */
  Item find(1: i64 id) throws (1: NotFound notFound, 2: Invalid invalid),
  /** The server handler throws an undeclared error: the reply is a TApplicationException. */
  i32 crash(1: string why),
  void ping(),
}

/** What the client calls: one more method than the server implements (→ UNKNOWN_METHOD). */
service CatalogNext extends Catalog {
  void added(1: i32 x),
}

/** A second service, served next to Catalog by a multiplexed processor. */
service Admin {
  string version(),
  map<string, i32> stats(1: list<string> names),
  oneway void audit(1: string line),
  void fail(1: string why) throws (1: Invalid invalid),
}
