// Json.NET's default reader, which Azure ML's front end uses, is more lenient than JSON.parse.
import { expect } from "chai";
import { LenientJsonError, parseLenientJson } from "../../emulator/lenientJson";

describe("lenient JSON (Json.NET's default reader)", () => {
  it('reads raw newlines and tabs inside strings, as "$(cat env.yml)" in a shell script sends them @unit', () => {
    const conda = "name: env\ndependencies:\n\t- python=3.10\n";
    expect(parseLenientJson(`{"condaFile": "${conda}"}`)).to.deep.equal({ condaFile: conda });
  });

  it("reads trailing commas, comments, single quotes and unquoted names @unit", () => {
    const text = `{
      // a comment
      'name': 'x', /* another */
      tags: {"a": 1,},
      list: [1, 2,],
    }`;
    expect(parseLenientJson(text)).to.deep.equal({ name: "x", tags: { a: 1 }, list: [1, 2] });
  });

  it("keeps __proto__ an own key, as JSON.parse does, so it is refused later @unit", () => {
    const value = parseLenientJson(`{'__proto__': {"x": 1},}`) as Record<string, unknown>;
    expect(Object.keys(value)).to.deep.equal(["__proto__"]);
    expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
  });

  it("still refuses what is not JSON, saying where @unit", () => {
    for (const text of ['{"properties": {', "{'a' 1}", '{"a": tru}', '{"a": 1} x', "[1 2]"]) {
      expect(() => parseLenientJson(text), text).to.throw(LenientJsonError, /line \d+, column \d+/);
    }
  });
});
