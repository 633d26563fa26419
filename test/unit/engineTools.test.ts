/**
 * The engine tooling's pure parts: which Pulumi version engine/go.mod pins, how versions compare
 * (a `pulumi` on PATH must be at least as new as the project's `@pulumi/pulumi`), and where the
 * build is cached.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { compareVersions, engineCacheDir, pinnedVersion, repoRoot } from "../../tools/engine";

describe("engine tooling", () => {
  it("reads the pinned Pulumi version from engine/go.mod, in either require form @unit", () => {
    expect(
      pinnedVersion("module m\n\nrequire github.com/pulumi/pulumi/pkg/v3 v3.277.0\n"),
    ).to.equal("3.277.0");
    expect(
      pinnedVersion("require (\n\tgithub.com/pulumi/pulumi/pkg/v3 v3.276.1\n\tfoo v1.0.0\n)\n"),
    ).to.equal("3.276.1");
    expect(() => pinnedVersion("module m\n")).to.throw(/does not require/);
    const goMod = readFileSync(path.join(repoRoot(), "engine", "go.mod"), "utf8");
    expect(goMod).to.contain(`github.com/pulumi/pulumi/sdk/v3 v${pinnedVersion(goMod)}`);
  });

  it("compares CLI versions numerically, ignoring a leading v and pre-release tags @unit", () => {
    expect(compareVersions("v3.277.0", "3.270.0")).to.be.greaterThan(0);
    expect(compareVersions("3.99.0", "3.270.0")).to.be.lessThan(0);
    expect(compareVersions("3.270.0-alpha.1", "3.270.0")).to.equal(0);
    expect(compareVersions("4.0.0", "3.999.9")).to.be.greaterThan(0);
  });

  it("caches the engine under XDG_CACHE_HOME, else ~/.cache @unit", () => {
    expect(engineCacheDir({ XDG_CACHE_HOME: "/c" })).to.equal(
      path.join("/c", "pulumi-azureml", "engine"),
    );
    expect(engineCacheDir({})).to.match(/\.cache[/\\]pulumi-azureml[/\\]engine$/);
  });
});
