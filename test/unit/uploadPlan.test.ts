import { expect } from "chai";
import {
  blobNamesForPendingUpload,
  codeUriFor,
  describeContent,
  indicatorBlob,
  indicatorMetadata,
  legacyBlobNames,
  sortBlobNames,
  uploadPrefixFor,
} from "../../provider/upload/plan";
import { redactSas } from "../../provider/upload/blobUpload";

/**
 * Expected values from the shared reference `code-hash-vectors/expected.json`, section
 * `derivedFromRules` (AZUREML-REST-CONTRACT.md sections 8.4, 8.5 and 8.7).
 */
const MD5 = "77606e8e7980ac90af168238a3e8d57c";
const FILES = ["empty.txt", "sub/data.csv", "train.py", "Zeta/a.txt"].map((relativePath) => ({
  relativePath,
}));
const EXPECTED = {
  legacyDatastoreBlobs: [
    "LocalUpload/77606e8e7980ac90af168238a3e8d57c/src/Zeta/a.txt",
    "LocalUpload/77606e8e7980ac90af168238a3e8d57c/src/empty.txt",
    "LocalUpload/77606e8e7980ac90af168238a3e8d57c/src/sub/data.csv",
    "LocalUpload/77606e8e7980ac90af168238a3e8d57c/src/train.py",
  ],
  legacyIndicatorBlob: "LocalUpload/77606e8e7980ac90af168238a3e8d57c/src/Zeta/a.txt",
  pendingUploadBlobsRelativeToSasContainer: [
    "src/Zeta/a.txt",
    "src/empty.txt",
    "src/sub/data.csv",
    "src/train.py",
  ],
};

describe("upload plan", () => {
  it("@unit pending-upload blobs are <folder>/<relative path> at the container root", () => {
    expect(blobNamesForPendingUpload("src", FILES)).to.deep.equal(
      EXPECTED.pendingUploadBlobsRelativeToSasContainer,
    );
  });

  it("@unit legacy datastore blobs live under LocalUpload/<md5>/<folder>/ in code-point order", () => {
    expect(legacyBlobNames(MD5, "src", FILES)).to.deep.equal(EXPECTED.legacyDatastoreBlobs);
  });

  it("@unit the indicator blob is the first in code-point order, so Zeta comes before lower case", () => {
    expect(indicatorBlob(legacyBlobNames(MD5, "src", FILES))).to.equal(
      EXPECTED.legacyIndicatorBlob,
    );
    expect(indicatorBlob(["b", "a", "B"])).to.equal("B");
    expect(() => indicatorBlob([])).to.throw(RangeError);
  });

  it("@unit blob names sort by code point, not by UTF-16 unit", () => {
    expect(sortBlobNames(["src/\u{1F600}", "src/\uFF01", "src/Z", "src/a"])).to.deep.equal([
      "src/Z",
      "src/a",
      "src/\uFF01",
      "src/\u{1F600}",
    ]);
  });

  it("@unit the indicator metadata is upload_status=completed with the asset name and version", () => {
    expect(indicatorMetadata("train-code", "3")).to.deep.equal({
      upload_status: "completed",
      name: "train-code",
      version: "3",
    });
  });

  it("@unit a folder uploads under <basename>/, a single file at the container root", () => {
    expect(uploadPrefixFor("src", false)).to.equal("src/");
    expect(uploadPrefixFor("score.py", true)).to.equal("");
  });

  it("@unit codeUri joins the blob URI, container and folder like Python's urljoin", () => {
    expect(codeUriFor("https://acct.blob.core.windows.net/", "azureml-blobstore", "src")).to.equal(
      "https://acct.blob.core.windows.net/azureml-blobstore/src",
    );
    expect(codeUriFor("https://acct.blob.core.windows.net", "c", "LocalUpload/abc/src")).to.equal(
      "https://acct.blob.core.windows.net/c/LocalUpload/abc/src",
    );
    // urljoin replaces the last segment of a base without a trailing slash.
    expect(codeUriFor("https://acct.blob.core.windows.net/old", "c", "src")).to.equal(
      "https://acct.blob.core.windows.net/c/src",
    );
  });

  it("@unit codeUri percent-encodes names and drops any SAS query of the blob URI", () => {
    expect(
      codeUriFor("https://127.0.0.1:10000/devstoreaccount1/?sv=x&sig=secret", "c", "my code#1"),
    ).to.equal("https://127.0.0.1:10000/devstoreaccount1/c/my%20code%231");
  });

  it("@unit the preview line leaves the hash out when there is none to show", () => {
    expect(
      describeContent({ fileCount: 2, byteCount: 730, ignoredCount: 0, ignoreSource: "none" }),
    ).to.equal("2 files, 730 B");
  });

  it("@unit the preview line names files, size, ignored entries and the short hash", () => {
    expect(
      describeContent({
        fileCount: 12,
        byteCount: 3_400_000,
        ignoredCount: 2,
        ignoreSource: ".amlignore",
        hash: "5b496995c67ff387bd90539cf16ddc36b941b54cb0ff9518737ddd6d5c27ad39",
      }),
    ).to.equal("12 files, 3.4 MB, 2 ignored by .amlignore, sha256 5b496995c67f");
    expect(
      describeContent({
        fileCount: 1,
        byteCount: 15,
        ignoredCount: 0,
        ignoreSource: "none",
        hash: "77606e8e7980ac90af168238a3e8d57c0000",
      }),
    ).to.equal("1 file, 15 B, sha256 77606e8e7980");
  });

  it("@unit SAS signatures are redacted from error text", () => {
    expect(redactSas("GET https://a/c/b?sv=2024&sig=abc%2Bdef&se=1 failed")).to.equal(
      "GET https://a/c/b?sv=2024&sig=REDACTED&se=1 failed",
    );
  });
});
