import { describe, expect, it } from "vitest";
import { splitLaunchAddress } from "./launch";

describe("a launch link's token", () => {
  it("is taken out of the fragment, which then opens the launch screen", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "", hash: "#token=abc" })).toEqual({ token: "abc", url: "/#/" });
  });

  it("keeps the query and the path (behind a proxy)", () => {
    expect(splitLaunchAddress({ pathname: "/pmi/", search: "?lang=it", hash: "#token=abc" })).toEqual({
      token: "abc",
      url: "/pmi/?lang=it#/",
    });
  });

  it("is still read from the query of a link in the earlier form, and taken out of it", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "?token=abc", hash: "" })).toEqual({ token: "abc", url: "/#/" });
    expect(splitLaunchAddress({ pathname: "/pmi/", search: "?lang=it&token=abc", hash: "" })).toEqual({
      token: "abc",
      url: "/pmi/?lang=it#/",
    });
  });

  it("an empty token is a launch link too (it says the link is incomplete)", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "", hash: "#token=" })).toEqual({ token: "", url: "/#/" });
    expect(splitLaunchAddress({ pathname: "/", search: "?token=", hash: "" })).toEqual({ token: "", url: "/#/" });
  });

  it("an address without a token is left alone, a screen of the app included", () => {
    expect(splitLaunchAddress({ pathname: "/", search: "", hash: "" }).token).toBeNull();
    expect(splitLaunchAddress({ pathname: "/", search: "?tokens=1", hash: "#tokens=1" }).token).toBeNull();
    expect(splitLaunchAddress({ pathname: "/", search: "", hash: "#/import" }).token).toBeNull();
    expect(splitLaunchAddress({ pathname: "/", search: "", hash: "#/imports/x?token=1" }).token).toBeNull();
  });
});
