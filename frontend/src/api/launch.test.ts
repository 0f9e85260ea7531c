import { describe, expect, it } from "vitest";
import { splitLaunchAddress } from "./launch";

describe("a launch link's token", () => {
  it("is taken out of the address, which then opens the launch screen", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "?token=abc" })).toEqual({ token: "abc", url: "/#/" });
  });

  it("keeps the other parameters and the path (behind a proxy)", () => {
    expect(splitLaunchAddress({ pathname: "/pmi/", search: "?lang=it&token=abc" })).toEqual({
      token: "abc",
      url: "/pmi/?lang=it#/",
    });
  });

  it("an empty token is a launch link too (it says the link is incomplete)", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "?token=" })).toEqual({ token: "", url: "/#/" });
  });

  it("an address without a token is left alone", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "" }).token).toBeNull();
    expect(splitLaunchAddress({ pathname: "/", search: "?tokens=1" }).token).toBeNull();
  });
});
