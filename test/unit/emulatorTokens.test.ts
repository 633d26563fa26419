import { expect } from "chai";
import {
  ARM_AUDIENCE,
  ML_AUDIENCE,
  checkAuthorization,
  decodeToken,
  mintEmulatorTokens,
  mintToken,
} from "../../emulator/tokens";

const NOW = Date.UTC(2026, 0, 1);

describe("emulator tokens", () => {
  it("mints JWT-shaped tokens carrying aud, iss, exp, oid and tid @unit", () => {
    const token = mintToken({ audience: ARM_AUDIENCE, nowInMs: NOW, expiresInSeconds: 60 });
    expect(token.split(".")).to.have.length(3);
    const decoded = decodeToken(token);
    expect(decoded?.claims.aud).to.equal(ARM_AUDIENCE);
    expect(decoded?.claims.exp).to.equal(NOW / 1000 + 60);
    expect(decoded?.claims.iss).to.equal(`https://sts.windows.net/${decoded?.claims.tid}/`);
    expect(decoded?.claims.oid).to.be.a("string");
  });

  it("accepts the configured token @unit", () => {
    const { arm } = mintEmulatorTokens({ nowInMs: NOW });
    expect(
      checkAuthorization(`Bearer ${arm}`, { token: arm, audience: ARM_AUDIENCE }, NOW),
    ).to.deep.equal({ ok: true });
  });

  it("accepts another unexpired emulator token for the same audience @unit", () => {
    const configured = mintToken({ audience: ARM_AUDIENCE, nowInMs: NOW });
    const fresh = mintToken({ audience: "https://management.azure.com/", nowInMs: NOW + 1000 });
    expect(
      checkAuthorization(`Bearer ${fresh}`, { token: configured, audience: ARM_AUDIENCE }, NOW).ok,
    ).to.equal(true);
  });

  it("explains why a token is refused @unit", () => {
    const { arm, ml } = mintEmulatorTokens({ nowInMs: NOW });
    const expected = { token: arm, audience: ARM_AUDIENCE };
    expect(checkAuthorization(undefined, expected, NOW)).to.deep.equal({
      ok: false,
      reason: "missing",
    });
    expect(checkAuthorization("Basic abc", expected, NOW)).to.deep.equal({
      ok: false,
      reason: "malformed",
    });
    expect(checkAuthorization("Bearer not-a-jwt", expected, NOW)).to.deep.equal({
      ok: false,
      reason: "invalid",
    });
    const wrongAudience = checkAuthorization(`Bearer ${ml}`, expected, NOW);
    expect(wrongAudience).to.include({ ok: false, reason: "audience", audience: ML_AUDIENCE });
    const expired = mintToken({
      audience: ARM_AUDIENCE,
      nowInMs: NOW - 7200_000,
      expiresInSeconds: 60,
    });
    expect(checkAuthorization(`Bearer ${expired}`, expected, NOW)).to.deep.equal({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses a JWT with the right audience that the emulator did not mint @unit", () => {
    const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
    const claims = Buffer.from(
      JSON.stringify({ aud: ARM_AUDIENCE, exp: NOW / 1000 + 60 }),
    ).toString("base64url");
    const { arm } = mintEmulatorTokens({ nowInMs: NOW });
    expect(
      checkAuthorization(
        `Bearer ${header}.${claims}.sig`,
        { token: arm, audience: ARM_AUDIENCE },
        NOW,
      ),
    ).to.deep.equal({ ok: false, reason: "invalid" });
  });

  it("checks the ML audience for the data plane @unit", () => {
    const { arm, ml } = mintEmulatorTokens({ nowInMs: NOW });
    const expected = { token: ml, audience: ML_AUDIENCE };
    expect(checkAuthorization(`Bearer ${ml}`, expected, NOW).ok).to.equal(true);
    expect(checkAuthorization(`Bearer ${arm}`, expected, NOW)).to.include({ reason: "audience" });
  });
});
