// The decoder's contract beyond the vectors: first-byte detection (detect.ts), sticky errors,
// reset(), skip() misuse, metadata before the end of a large message, accessors that never trap.

import { EV_MESSAGE, EV_NEED_MORE, EV_ERROR } from "../../assembly/protocols/codec";
import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import {
  detectStart,
  detectedTransport,
  detectedProtocol,
  DETECT_MORE,
  DETECT_ERROR,
} from "../../assembly/protocols/thrift/detect";
import {
  TRANSPORT_UNKNOWN,
  TRANSPORT_FRAMED,
  TRANSPORT_UNFRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_UNKNOWN,
  PROTOCOL_BINARY,
  PROTOCOL_COMPACT,
  MSG_CALL,
  MSG_ONEWAY,
} from "../../assembly/protocols/thrift/types";
import { hexBytes, text } from "./helpers";

const T1 = "0000001f800100010000000767657455736572000000010a0001000000000000002a00";
const T18 = "0000004d0fff0000000000010009000001020c782d726571756573742d69640361626307636c757374657204626c756500008001000100000007676574557365" + "72000000010a0001000000000000002a00";

function detect(hex: string, lax: bool = false): i32 {
  const b = hexBytes(hex);
  return detectStart(b.dataStart, b.length, lax);
}

function feedHex(d: ThriftDecoder, hex: string): i32 {
  const b = hexBytes(hex);
  return d.feed(b.dataStart, b.length);
}

describe("detectStart", () => {
  it("decides unframed binary and compact after two bytes", () => {
    expect(detect("80")).toBe(DETECT_MORE);
    expect(detect("82")).toBe(DETECT_MORE);
    const b = detect("8001");
    expect(detectedTransport(b)).toBe(TRANSPORT_UNFRAMED);
    expect(detectedProtocol(b)).toBe(PROTOCOL_BINARY);
    const c = detect("8281"); // ONEWAY<<5 | 1
    expect(detectedTransport(c)).toBe(TRANSPORT_UNFRAMED);
    expect(detectedProtocol(c)).toBe(PROTOCOL_COMPACT);
    expect(detect("8002")).toBe(DETECT_ERROR);
    expect(detect("8222")).toBe(DETECT_ERROR);
    expect(detect("81")).toBe(DETECT_ERROR);
    expect(detect("ff")).toBe(DETECT_ERROR);
  });

  it("decides framed and header after eight bytes", () => {
    expect(detect("0000001f800100")).toBe(DETECT_MORE);
    const f = detect("0000001f80010001");
    expect(detectedTransport(f)).toBe(TRANSPORT_FRAMED);
    expect(detectedProtocol(f)).toBe(PROTOCOL_BINARY);
    const fc = detect("0000000e82210107");
    expect(detectedTransport(fc)).toBe(TRANSPORT_FRAMED);
    expect(detectedProtocol(fc)).toBe(PROTOCOL_COMPACT);
    const h = detect("0000004d0fff0000");
    expect(detectedTransport(h)).toBe(TRANSPORT_HEADER);
    expect(detectedProtocol(h)).toBe(PROTOCOL_UNKNOWN);
    expect(detect("0000000767657455")).toBe(DETECT_ERROR);
  });

  it("takes anything else for non-strict binary only when allowed", () => {
    const l = detect("0000000767657455", true);
    expect(detectedTransport(l)).toBe(TRANSPORT_UNFRAMED);
    expect(detectedProtocol(l)).toBe(PROTOCOL_BINARY);
    expect(detectedTransport(detect("0000001f80010001", true))).toBe(TRANSPORT_FRAMED);
  });
});

describe("ThriftDecoder contract", () => {
  it("errors are sticky until reset, and reset starts a new connection", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    feedHex(d, "474554202f20485454502f312e31");
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("unknown thrift auto transport frame start");
    expect(feedHex(d, T1)).toBe(0);
    expect(d.event).toBe(EV_ERROR);
    d.skip(1);
    expect(d.event).toBe(EV_ERROR);
    expect(d.skippable()).toBe(0);
    d.reset();
    expect(d.errorReason()).toBe("");
    expect(d.transport()).toBe(TRANSPORT_UNKNOWN);
    expect(feedHex(d, T1)).toBe(35);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.start()).toBe(0);
    expect(d.end()).toBe(35);
  });

  it("skipping more than skippable() is an error; skip(0) and feed of 0 bytes do nothing", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    expect(feedHex(d, T1.substring(0, 2 * 27))).toBe(27); // up to the i64 value of field 1
    expect(d.metadataReady()).toBe(true);
    const s = d.skippable();
    expect(s).toBe(7); // the frame's rest but its last byte
    d.skip(0);
    expect(d.event).toBe(EV_NEED_MORE);
    const b = hexBytes("00");
    expect(d.feed(b.dataStart, 0)).toBe(0);
    expect(d.event).toBe(EV_NEED_MORE);
    d.skip(s + 1);
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("invalid skip");
  });

  it("metadata is readable once the message header is in, before the end", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    feedHex(d, T18.substring(0, 2 * 60)); // the THeader and the message header up to the name
    expect(d.metadataReady()).toBe(false);
    expect(d.headerCount()).toBe(2);
    feedHex(d, T18.substring(2 * 60, 2 * 72));
    expect(d.metadataReady()).toBe(true);
    expect(d.event).toBe(EV_NEED_MORE);
    expect(text(d.namePtr(), d.nameLen())).toBe("getUser");
    expect(d.messageType()).toBe(MSG_CALL);
    expect(text(d.headerKeyPtr(1), d.headerKeyLen(1))).toBe("cluster");
    feedHex(d, T18.substring(2 * 72));
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.headerSeqId()).toBe(1);
  });

  it("header accessors out of range return empty values", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    feedHex(d, T1);
    expect(d.headerCount()).toBe(0);
    expect(d.headerKeyLen(0)).toBe(0);
    expect(d.headerValueLen(-1)).toBe(0);
    expect(d.headerKeyLen(1 << 30)).toBe(0);
    expect(d.headerKeyPtr(5)).toBeGreaterThan(0);
  });

  it("position and boundary while the first bytes are still being recognised", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    expect(d.atBoundary()).toBe(true);
    expect(feedHex(d, "000000")).toBe(3);
    expect(d.atBoundary()).toBe(false);
    expect(d.position()).toBe(3);
    expect(d.transport()).toBe(TRANSPORT_UNKNOWN);
    expect(feedHex(d, T1.substring(6))).toBe(32);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.position()).toBe(35);
    expect(d.atBoundary()).toBe(true);
  });

  it("a message ends exactly where feed() stops; the next one starts there", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    const two = hexBytes(T1 + "0000001980010004000000036c6f67000000020b000100000002686900");
    expect(d.feed(two.dataStart, two.length)).toBe(35);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.feed(two.dataStart + 35, two.length - 35)).toBe(29);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.messageType()).toBe(MSG_ONEWAY);
    expect(d.start()).toBe(35);
    expect(d.end()).toBe(64);
  });

  it("a compact message of 5 bytes is recognised without waiting for 8", () => {
    const d = new ThriftDecoder(new ThriftLimits());
    expect(feedHex(d, "8221000000")).toBe(5);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.nameLen()).toBe(0);
    expect(d.protocol()).toBe(PROTOCOL_COMPACT);
  });
});
