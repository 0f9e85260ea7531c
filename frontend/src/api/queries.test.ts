import { describe, expect, it } from "vitest";
import { ApiError } from "./client";
import { renewedCode } from "./queries";

describe("a comparison renewed by the server", () => {
  it.each([
    [new ApiError(409, "order_changed", ""), "order_changed"],
    [new ApiError(409, "identity_not_compared", ""), "identity_not_compared"],
    [new ApiError(409, "identity_changed", ""), "identity_changed"],
    [new ApiError(409, "identity_not_acknowledged", ""), null],
    [new ApiError(409, "study_conflict", ""), null],
    [new ApiError(422, "order_changed", ""), null],
    [new Error("network"), null],
  ])("%o → %s", (error, code) => {
    expect(renewedCode(error)).toBe(code);
  });
});
