import { expect } from "chai";
import * as path from "node:path";
import { balance, durationKey, runnerOptions, shardCount } from "../support/runMocha";

describe("the sharded test runner (test/support/runMocha.ts)", () => {
  it("@unit balances files by measured seconds, longest first, each group sorted", () => {
    const seconds: Record<string, number> = { a: 100, b: 90, c: 60, d: 30, e: 20, f: 5 };
    const groups = balance(Object.keys(seconds), (f) => seconds[f], 2);
    expect(groups).to.deep.equal([
      { files: ["a", "d", "e", "f"], seconds: 155 },
      { files: ["b", "c"], seconds: 150 },
    ]);
    expect(groups.flatMap((g) => g.files).sort()).to.deep.equal(Object.keys(seconds));
  });

  it("@unit never makes an empty shard", () => {
    expect(balance(["x", "y"], () => 1, 3).map((g) => g.files)).to.deep.equal([["x"], ["y"]]);
  });

  it("@unit reads AZUREML_TEST_SHARDS as a positive integer", () => {
    expect(shardCount("1")).to.equal(1);
    expect(shardCount(" 4 ")).to.equal(4);
    expect(shardCount(undefined)).to.be.above(0);
    expect(shardCount("")).to.equal(shardCount(undefined));
    for (const bad of ["0", "-2", "1.5", "two"]) {
      expect(() => shardCount(bad)).to.throw(/AZUREML_TEST_SHARDS must be a positive integer/);
    }
  });

  it("@unit takes --serial and --shards out of the arguments mocha gets", () => {
    expect(runnerOptions(["--serial", "--grep", "@unit"])).to.deep.equal({
      args: ["--grep", "@unit"],
      serial: true,
      shards: undefined,
    });
    expect(runnerOptions(["--shards", "2", "--bail"]).shards).to.equal(2);
    expect(runnerOptions(["--shards=3"])).to.deep.equal({ args: [], serial: false, shards: 3 });
    expect(() => runnerOptions(["--shards"])).to.throw(/--shards must be a positive integer/);
    expect(() => runnerOptions(["--shards=0"])).to.throw(/--shards must be a positive integer/);
  });

  it("@unit names a built spec file by its source path", () => {
    const root = path.resolve("/repo");
    expect(durationKey(path.join(root, "dist", "test", "unit", "ids.test.js"), root)).to.equal(
      "test/unit/ids.test.ts",
    );
  });
});
