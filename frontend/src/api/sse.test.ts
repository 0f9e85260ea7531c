import { describe, expect, it } from "vitest";
import { SseParser } from "./sse";

describe("SseParser", () => {
  it("reads named events, multi-line data and skips heartbeats", () => {
    const p = new SseParser();
    const out = p.feed('event: snapshot\ndata: {"a":1}\n\n: ping\n\nevent: stage\ndata: x\ndata: y\n\n');
    expect(out).toEqual([
      { event: "snapshot", data: '{"a":1}' },
      { event: "stage", data: "x\ny" },
    ]);
  });

  it("handles chunks split anywhere and CRLF line ends", () => {
    const text = 'event: status\r\ndata: {"status":"queued"}\r\n\r\n';
    const p = new SseParser();
    const out = [...text].flatMap((ch) => p.feed(ch));
    expect(out).toEqual([{ event: "status", data: '{"status":"queued"}' }]);
  });

  it("defaults the event name to message", () => {
    expect(new SseParser().feed("data: hi\n\n")).toEqual([{ event: "message", data: "hi" }]);
  });
});
