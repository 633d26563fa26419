import { expect } from "chai";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { computeContentHash, computeObjectHash } from "../../provider/upload/contentHash";
import { createIgnoreRules, loadIgnoreRules } from "../../provider/upload/ignore";
import { walkFiles } from "../../provider/upload/walk";

type Tree = { [name: string]: string | Tree };

async function writeTree(dir: string, tree: Tree): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    const target = path.join(dir, name);
    if (typeof value === "string") {
      await fs.writeFile(target, value);
    } else {
      await writeTree(target, value);
    }
  }
}

async function keptFiles(root: string, options = {}): Promise<string[]> {
  const rules = await loadIgnoreRules(root, options);
  return (await walkFiles(root, rules)).files.map((f) => f.relativePath);
}

describe("ignore rules (.amlignore / .gitignore)", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-ignore-"));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@unit .amlignore in the root wins over .gitignore", async () => {
    await writeTree(tmp, {
      ".amlignore": "*.log\n",
      ".gitignore": "*.py\n",
      "a.log": "",
      "a.py": "",
    });
    const rules = await loadIgnoreRules(tmp);
    expect(rules.source).to.equal(".amlignore");
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", ".gitignore", "a.py"]);
  });

  it("@unit .gitignore applies when there is no .amlignore", async () => {
    await writeTree(tmp, { ".gitignore": "*.py\n", "a.log": "", "a.py": "" });
    expect((await loadIgnoreRules(tmp)).source).to.equal(".gitignore");
    expect(await keptFiles(tmp)).to.deep.equal([".gitignore", "a.log"]);
  });

  it("@unit the ignore file itself is hashed unless one of its patterns matches it", async () => {
    await writeTree(tmp, { ".amlignore": "*.log\n", "a.py": "" });
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", "a.py"]);
    await fs.writeFile(path.join(tmp, ".amlignore"), "*.log\n.amlignore\n");
    expect(await keptFiles(tmp)).to.deep.equal(["a.py"]);
  });

  it("@unit a negation re-includes a file an earlier pattern excluded", async () => {
    await writeTree(tmp, {
      ".amlignore": "*.log\n!keep.log\n",
      "a.log": "",
      "keep.log": "",
      sub: { "keep.log": "", "b.log": "" },
    });
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", "keep.log", "sub/keep.log"]);
  });

  it("@unit build/ excludes the folder's files at any depth but not a file named build", async () => {
    await writeTree(tmp, {
      ".amlignore": "build/\n",
      build: { "out.bin": "", deep: { "x.o": "" } },
      pkg: { build: { "y.o": "" } },
      other: { build: "a file, not a folder" },
    });
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", "other/build"]);
  });

  it("@unit a leading slash anchors a pattern to the code folder's root", async () => {
    await writeTree(tmp, {
      ".amlignore": "/outputs\n",
      outputs: { "o.txt": "" },
      sub: { outputs: { "kept.txt": "" } },
    });
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", "sub/outputs/kept.txt"]);
  });

  it("@unit **/name matches at any depth, and a middle slash anchors", async () => {
    await writeTree(tmp, {
      ".amlignore": "**/__pycache__\ndocs/*.md\n",
      __pycache__: { "a.pyc": "" },
      pkg: { __pycache__: { "b.pyc": "" }, "m.py": "" },
      docs: { "r.md": "", nested: { "n.md": "" } },
      sub: { docs: { "s.md": "" } },
    });
    expect(await keptFiles(tmp)).to.deep.equal([
      ".amlignore",
      "docs/nested/n.md",
      "pkg/m.py",
      "sub/docs/s.md",
    ]);
  });

  it("@unit comments, escapes and trailing spaces follow gitignore syntax", () => {
    const rules = createIgnoreRules(
      ".amlignore",
      ["# a comment", "\\#literal", "\\!bang", "spaced   ", "kept\\ ", ""].join("\n"),
    );
    expect(rules.isIgnored("# a comment", false)).to.equal(false);
    expect(rules.isIgnored("#literal", false)).to.equal(true);
    expect(rules.isIgnored("!bang", false)).to.equal(true);
    expect(rules.isIgnored("spaced", false)).to.equal(true);
    expect(rules.isIgnored("kept ", false)).to.equal(true);
    expect(rules.isIgnored("kept", false)).to.equal(false);
  });

  it("@unit patterns are case-sensitive, like the SDK's matcher", () => {
    const rules = createIgnoreRules(".gitignore", "*.log\n");
    expect(rules.isIgnored("a.log", false)).to.equal(true);
    expect(rules.isIgnored("A.LOG", false)).to.equal(false);
  });

  it("@unit .git is always skipped, with or without an ignore file, and not counted as ignored", async () => {
    await writeTree(tmp, {
      ".git": { HEAD: "ref: refs/heads/main\n", objects: { ab: "x" } },
      sub: { ".git": "gitdir: ../.git/modules/sub\n", "s.py": "" },
      "a.py": "",
    });
    const walk = await walkFiles(tmp, await loadIgnoreRules(tmp));
    expect(walk.files.map((f) => f.relativePath)).to.deep.equal(["a.py", "sub/s.py"]);
    expect(walk.ignoredCount).to.equal(0);
    expect(createIgnoreRules("none", "").isIgnored(".git/HEAD", false)).to.equal(true);
  });

  it("@unit ignored entries are counted, a pruned folder once", async () => {
    await writeTree(tmp, {
      ".amlignore": "*.log\n.venv/\n",
      ".venv": { lib: { "x.py": "", "y.py": "" } },
      "a.log": "",
      "b.log": "",
      "a.py": "",
    });
    const result = await computeContentHash(tmp);
    expect(result.ignoredCount).to.equal(3);
    expect(result.ignoreSource).to.equal(".amlignore");
  });

  it("@unit a negation cannot re-include a file inside an excluded folder (git semantics; the SDK differs)", async () => {
    await writeTree(tmp, {
      ".amlignore": "build/\n!build/keep.txt\n",
      build: { "keep.txt": "", "drop.txt": "" },
      "a.py": "",
    });
    expect(await keptFiles(tmp)).to.deep.equal([".amlignore", "a.py"]);
  });

  it("@unit only the root's ignore file is read by default, as the SDK does", async () => {
    await writeTree(tmp, {
      ".git": { HEAD: "" },
      ".gitignore": "*.csv\n",
      code: { "train.py": "", "data.csv": "", nested: { ".gitignore": "*.py\n", "n.py": "" } },
    });
    const code = path.join(tmp, "code");
    expect(await keptFiles(code)).to.deep.equal([
      "data.csv",
      "nested/.gitignore",
      "nested/n.py",
      "train.py",
    ]);
    expect((await loadIgnoreRules(code)).parentIgnoreFiles).to.deep.equal([]);
  });

  it("@unit includeParentIgnoreFiles applies parent ignore files up to the git repository root", async () => {
    await writeTree(tmp, {
      ".gitignore": "outside-repo.py\n",
      repo: {
        ".git": { HEAD: "" },
        ".gitignore": "*.csv\n/code/local-only.txt\n",
        code: {
          ".amlignore": "*.tmp\n!keep.csv\n",
          "train.py": "",
          "data.csv": "",
          "keep.csv": "",
          "x.tmp": "",
          "local-only.txt": "",
          "outside-repo.py": "",
        },
      },
    });
    const code = path.join(tmp, "repo", "code");
    const rules = await loadIgnoreRules(code, { includeParentIgnoreFiles: true });
    expect(rules.source).to.equal(".amlignore");
    expect(rules.parentIgnoreFiles).to.deep.equal([
      path.join(await fs.realpath(tmp), "repo", ".gitignore"),
    ]);
    expect(await keptFiles(code, { includeParentIgnoreFiles: true })).to.deep.equal([
      ".amlignore",
      "keep.csv",
      "outside-repo.py",
      "train.py",
    ]);
  });

  it("@unit includeParentIgnoreFiles reads nothing outside a git repository", async () => {
    await writeTree(tmp, { ".gitignore": "*.py\n", code: { "a.py": "" } });
    const rules = await loadIgnoreRules(path.join(tmp, "code"), { includeParentIgnoreFiles: true });
    expect(rules.parentIgnoreFiles).to.deep.equal([]);
    expect(rules.isIgnored("a.py", false)).to.equal(false);
  });

  it("@unit the MD5 object hash keeps a folder excluded only by a directory pattern, as the SDK does", async () => {
    // SDK quirk (AZUREML-REST-CONTRACT.md 8.3): `build/` does not match the bare entry `build`,
    // so the name `build` is hashed while its children are excluded.
    await writeTree(tmp, {
      with: { ".amlignore": "build/\n", "a.py": "a", build: { "x.o": "x" } },
    });
    await writeTree(tmp, { without: { ".amlignore": "build/\n", "a.py": "a" } });
    await writeTree(tmp, { emptyBuild: { ".amlignore": "build/\n", "a.py": "a", build: {} } });
    const hashOf = async (dir: string) =>
      computeObjectHash(path.join(tmp, dir), await loadIgnoreRules(path.join(tmp, dir)));
    const [withBuild, withoutBuild, emptyBuild] = await Promise.all([
      hashOf("with"),
      hashOf("without"),
      hashOf("emptyBuild"),
    ]);
    expect(withBuild).to.not.equal(withoutBuild);
    expect(withBuild).to.equal(emptyBuild);
  });
});
