import { describe, expect, it } from "vitest";
import { ApiError, toApiError, unwrapEmpty, uploadApiError } from "./client";

describe("the API's errors", () => {
  it("keeps the code and its params; the English message only for logs", () => {
    const error = toApiError(409, {
      error: { code: "study_conflict", params: { count: 2, status: "0xA700", nested: { no: 1 } }, message: "English." },
    });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.code, error.params, error.message]).toEqual(["study_conflict", { count: 2, status: "0xA700" }, "English."]);
  });

  it("an answer without the API's error body: a validation list, or a proxy's page", () => {
    expect(toApiError(422, { detail: [] }).code).toBe("invalid_input");
    const proxy = toApiError(502, null);
    expect([proxy.code, proxy.params]).toEqual(["http_error", { status: 502 }]);
  });

  it("reads the API's refusal inside a failed tus upload", () => {
    const response = (status: number, body: string) => ({ originalResponse: { getStatus: () => status, getBody: () => body } });
    const closed = uploadApiError(response(409, JSON.stringify({ error: { code: "upload_closed", params: { status: "cancelled" }, message: "closed" } })));
    expect([closed?.code, closed?.params]).toEqual(["upload_closed", { status: "cancelled" }]);
    expect(uploadApiError(response(0, ""))).toBeNull(); // no answer: the network
    expect(uploadApiError(new Error("tus: failed to upload chunk"))).toBeNull();
    expect(uploadApiError(null)).toBeNull();
  });
});

describe("an answer without a body (204 No Content)", () => {
  const answer = (status: number, error?: unknown) => Promise.resolve({ error, response: new Response(null, { status }) });

  it("is a success", async () => {
    await expect(unwrapEmpty(answer(204))).resolves.toBeUndefined();
  });

  it("a refusal is the API's error", async () => {
    const refused = unwrapEmpty(answer(404, { error: { code: "not_found", params: {}, message: "Not found." } }));
    await expect(refused).rejects.toMatchObject({ status: 404, code: "not_found" });
  });
});
