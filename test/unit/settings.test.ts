import { expect } from "chai";
import {
  ARM_SCOPE,
  AZURE_ML_SCOPE,
  DEFAULT_API_VERSION,
  DEFAULT_SETTINGS,
  resolveSettings,
  type ConfigSource,
} from "../../provider/core/settings";

const config = (values: Record<string, string>): ConfigSource => ({ get: (key) => values[key] });

describe("resolveSettings", () => {
  it("uses the documented defaults when nothing is set @unit", () => {
    expect(resolveSettings(undefined, {})).to.deep.equal({
      armEndpoint: "https://management.azure.com",
      apiVersion: "2025-12-01",
      requestTimeoutInMs: 60_000,
      maxRetries: 3,
      retryDelayInMs: 800,
      maxRetryDelayInMs: 60_000,
      pollIntervalInMs: 2_000,
      lroTimeoutInMs: 3_600_000,
      armScope: "https://management.azure.com/.default",
      mlScope: "https://ml.azure.com/.default",
    });
    expect(DEFAULT_API_VERSION).to.equal("2025-12-01");
    expect(ARM_SCOPE).to.equal("https://management.azure.com/.default");
    expect(AZURE_ML_SCOPE).to.equal("https://ml.azure.com/.default");
    expect(Object.isFrozen(DEFAULT_SETTINGS)).to.equal(true);
  });

  it("takes another cloud's token scopes and rejects a scope without /.default @unit", () => {
    const settings = resolveSettings(
      config({ "azureml:armScope": "https://management.usgovcloudapi.net/.default" }),
      { AZUREML_ML_SCOPE: "https://ml.azure.us/.default" },
    );
    expect(settings.armScope).to.equal("https://management.usgovcloudapi.net/.default");
    expect(settings.mlScope).to.equal("https://ml.azure.us/.default");
    expect(() =>
      resolveSettings(config({ "azureml:armScope": "https://management.azure.com" }), {}),
    ).to.throw(TypeError, /azureml:armScope.*expected https:\/\/<resource>\/\.default/);
  });

  it("prefers stack config over environment over defaults @unit", () => {
    const env = {
      AZUREML_ARM_ENDPOINT: "https://env.example:8443/",
      AZUREML_MAX_RETRIES: "5",
      AZUREML_RETRY_DELAY_IN_MS: "100",
    };
    const settings = resolveSettings(
      config({ "azureml:armEndpoint": "https://config.example", "azureml:maxRetries": "1" }),
      env,
    );
    expect(settings.armEndpoint).to.equal("https://config.example");
    expect(settings.maxRetries).to.equal(1);
    expect(settings.retryDelayInMs).to.equal(100);
    expect(settings.maxRetryDelayInMs).to.equal(60_000);
  });

  it("converts the InSeconds keys of config and environment to milliseconds @unit", () => {
    const settings = resolveSettings(config({ "azureml:requestTimeoutInSeconds": "2.5" }), {
      AZUREML_LRO_TIMEOUT_IN_SECONDS: "90",
    });
    expect(settings.requestTimeoutInMs).to.equal(2500);
    expect(settings.lroTimeoutInMs).to.equal(90_000);
  });

  it("reads the subscription from AZUREML_SUBSCRIPTION_ID, then AZURE_SUBSCRIPTION_ID @unit", () => {
    expect(resolveSettings(undefined, { AZURE_SUBSCRIPTION_ID: "b" }).subscriptionId).to.equal("b");
    expect(
      resolveSettings(undefined, { AZUREML_SUBSCRIPTION_ID: "a", AZURE_SUBSCRIPTION_ID: "b" })
        .subscriptionId,
    ).to.equal("a");
    expect(
      resolveSettings(config({ "azureml:subscriptionId": "c" }), { AZUREML_SUBSCRIPTION_ID: "a" })
        .subscriptionId,
    ).to.equal("c");
    expect(resolveSettings(undefined, {})).to.not.have.property("subscriptionId");
  });

  it("passes the CA path and api-version through @unit", () => {
    const settings = resolveSettings(undefined, {
      AZUREML_CA_CERT_PATH: "ca.pem",
      AZUREML_API_VERSION: "2024-04-01",
    });
    expect(settings.caCertPath).to.equal("ca.pem");
    expect(settings.apiVersion).to.equal("2024-04-01");
  });

  it("ignores empty values so a blank variable does not mask a default @unit", () => {
    expect(
      resolveSettings(config({ "azureml:maxRetries": " " }), { AZUREML_MAX_RETRIES: "" })
        .maxRetries,
    ).to.equal(3);
  });

  it("rejects a non-numeric value with a TypeError naming the key and the variable @unit", () => {
    expect(() => resolveSettings(undefined, { AZUREML_MAX_RETRIES: "three" }))
      .to.throw(TypeError)
      .with.property("message")
      .that.includes("AZUREML_MAX_RETRIES")
      .and.includes("azureml:maxRetries");
    expect(() => resolveSettings(undefined, { AZUREML_MAX_RETRIES: "1.5" })).to.throw(
      TypeError,
      /integer/,
    );
    expect(() => resolveSettings(config({ "azureml:pollIntervalInMs": "2s" }), {})).to.throw(
      TypeError,
      /azureml:pollIntervalInMs.*AZUREML_POLL_INTERVAL_IN_MS/,
    );
  });

  it("rejects negative values and zero timeouts with a RangeError @unit", () => {
    expect(() => resolveSettings(undefined, { AZUREML_RETRY_DELAY_IN_MS: "-1" })).to.throw(
      RangeError,
      /AZUREML_RETRY_DELAY_IN_MS/,
    );
    expect(() => resolveSettings(config({ "azureml:requestTimeoutInSeconds": "0" }), {})).to.throw(
      RangeError,
      /greater than 0/,
    );
    expect(resolveSettings(undefined, { AZUREML_MAX_RETRIES: "0" }).maxRetries).to.equal(0);
  });

  it("requires an https ARM endpoint @unit", () => {
    expect(() => resolveSettings(undefined, { AZUREML_ARM_ENDPOINT: "http://127.0.0.1:8080" }))
      .to.throw(TypeError, /https is required/)
      .with.property("message")
      .that.includes("azureml:armEndpoint");
    expect(() => resolveSettings(undefined, { AZUREML_ARM_ENDPOINT: "not a url" })).to.throw(
      TypeError,
      /AZUREML_ARM_ENDPOINT/,
    );
    expect(() =>
      resolveSettings(undefined, { AZUREML_ARM_ENDPOINT: "https://x.example/?a=b" }),
    ).to.throw(TypeError, /query/);
  });

  it("rejects a malformed api-version @unit", () => {
    expect(() => resolveSettings(undefined, { AZUREML_API_VERSION: "latest" })).to.throw(
      TypeError,
      /api-version/,
    );
    expect(
      resolveSettings(undefined, { AZUREML_API_VERSION: "2026-07-15-preview" }).apiVersion,
    ).to.equal("2026-07-15-preview");
  });
});
