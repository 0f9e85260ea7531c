/**
 * Server-Sent Events read with fetch (EventSource cannot send the Authorization header): a small
 * parser of the text/event-stream format and a reader that feeds it from a response body.
 */

export interface SseMessage {
  event: string;
  data: string;
}

/** Incremental parser: feed it text as it arrives; it returns the complete messages. */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // a lone \r at the very end may be the first half of \r\n: wait for more
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === "") {
        if (this.data.length > 0) {
          out.push({ event: this.event || "message", data: this.data.join("\n") });
        }
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // comment (heartbeat)
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") this.event = value;
      else if (field === "data") this.data.push(value);
    }
    return out;
  }
}

/**
 * Read a stream until it ends or `signal` aborts. `onActivity` is called for every chunk
 * (heartbeats included), `onMessage` for every event.
 */
export async function readEventStream(
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
  onMessage: (message: SseMessage) => void,
  onOpen?: () => void,
): Promise<Response> {
  const response = await fetch(url, {
    headers: { Accept: "text/event-stream", ...init.headers },
    signal: init.signal,
    cache: "no-store",
  });
  if (!response.ok || !response.body) return response;
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const message of parser.feed(value)) onMessage(message);
  }
  return response;
}
