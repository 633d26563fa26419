/**
 * The emulator's error type and its factory. Every failure a handler or middleware raises is an
 * `EmulatorError`; the error-serializer middleware turns it into the ARM error body
 * `{ error: { code, message, target?, details?, innerError? } }` with the matching status.
 */

/** One entry of an ARM error's `details` array. */
export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
}

/** The ARM error body (common-types v3 `ErrorResponse`), plus Azure ML's `innerError`. */
export interface ArmErrorBody {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: ArmErrorDetail[];
    innerError?: { code: string };
  };
}

export interface EmulatorErrorOptions {
  target?: string;
  details?: ArmErrorDetail[];
  innerErrorCode?: string;
  /** Extra response headers, e.g. `WWW-Authenticate` on 401 or `Retry-After` on 429. */
  headers?: Record<string, string>;
}

const kEmulatorError = Symbol.for("pulumi-azureml.emulator.error");

/** A failure with an HTTP status and a stable ARM error `code`. */
export class EmulatorError extends Error {
  override readonly name = "EmulatorError";
  readonly target?: string;
  readonly details?: ArmErrorDetail[];
  readonly innerErrorCode?: string;
  readonly headers: Record<string, string>;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options: EmulatorErrorOptions = {},
  ) {
    super(message);
    this.target = options.target;
    this.details = options.details;
    this.innerErrorCode = options.innerErrorCode;
    this.headers = options.headers ?? {};
    (this as unknown as Record<symbol, boolean>)[kEmulatorError] = true;
  }

  toBody(): ArmErrorBody {
    return armErrorBody(this.code, this.message, {
      target: this.target,
      details: this.details,
      innerErrorCode: this.innerErrorCode,
    });
  }
}

/** Brand check that survives duplicate module copies (never rely on bare `instanceof`). */
export function isEmulatorError(e: unknown): e is EmulatorError {
  return (
    typeof e === "object" &&
    e !== null &&
    ((e as Record<symbol, unknown>)[kEmulatorError] === true ||
      (e as { name?: unknown }).name === "EmulatorError")
  );
}

export function armErrorBody(
  code: string,
  message: string,
  options: Omit<EmulatorErrorOptions, "headers"> = {},
): ArmErrorBody {
  const error: ArmErrorBody["error"] = { code, message };
  if (options.target !== undefined) {
    error.target = options.target;
  }
  if (options.details !== undefined && options.details.length > 0) {
    error.details = options.details;
  }
  if (options.innerErrorCode !== undefined) {
    error.innerError = { code: options.innerErrorCode };
  }
  return { error };
}

const ARM_NOT_FOUND_HINT = "For more details please go to https://aka.ms/ARMResourceNotFoundFix";

/** Canonical errors, one function per situation (the Azurite `StorageErrorFactory` shape). */
export const ErrorFactory = {
  missingApiVersion(): EmulatorError {
    return new EmulatorError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  },

  unsupportedApiVersion(
    apiVersion: string,
    resourceType: string,
    location: string,
    supported: readonly string[],
  ): EmulatorError {
    return new EmulatorError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location '${location}' and API version ` +
        `'${apiVersion}' for type '${resourceType}'. The supported api-versions are ` +
        `'${supported.join(", ")}'. The supported locations are '${location}'.`,
    );
  },

  invalidQueryParameter(name: string, operationId: string): EmulatorError {
    return new EmulatorError(
      400,
      "InvalidQueryParameter",
      `The query parameter '${name}' is not supported by operation '${operationId}'. ` +
        `(The emulator runs in strict mode; start it with strict: false to ignore unknown parameters.)`,
      { target: name },
    );
  },

  invalidQueryParameterValue(name: string, value: string, expected: string): EmulatorError {
    return new EmulatorError(
      400,
      "InvalidQueryParameterValue",
      `The value '${value}' of query parameter '${name}' is not valid: ${expected}.`,
      { target: name },
    );
  },

  missingQueryParameter(name: string): EmulatorError {
    return new EmulatorError(
      400,
      "MissingRequiredQueryParameter",
      `The query parameter '${name}' is required.`,
      { target: name },
    );
  },

  authenticationMissing(): EmulatorError {
    return new EmulatorError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is missing.",
      { headers: { "WWW-Authenticate": wwwAuthenticate() } },
    );
  },

  authenticationMalformed(): EmulatorError {
    return new EmulatorError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      { headers: { "WWW-Authenticate": wwwAuthenticate() } },
    );
  },

  invalidAuthenticationToken(): EmulatorError {
    return new EmulatorError(401, "InvalidAuthenticationToken", "The access token is invalid.", {
      headers: { "WWW-Authenticate": wwwAuthenticate() },
    });
  },

  tokenExpired(): EmulatorError {
    return new EmulatorError(
      401,
      "ExpiredAuthenticationToken",
      "The access token expiry UTC time is earlier than current UTC time.",
      { headers: { "WWW-Authenticate": wwwAuthenticate() } },
    );
  },

  audienceMismatch(actual: string | undefined, allowed: readonly string[]): EmulatorError {
    return new EmulatorError(
      401,
      "InvalidAuthenticationToken",
      `The access token has been obtained for wrong audience or resource '${actual ?? ""}'. ` +
        `It should exactly match with one of the allowed audiences '${allowed.join("','")}'.`,
      { headers: { "WWW-Authenticate": wwwAuthenticate() } },
    );
  },

  subscriptionNotFound(subscriptionId: string): EmulatorError {
    return new EmulatorError(
      404,
      "SubscriptionNotFound",
      `The subscription '${subscriptionId}' could not be found.`,
    );
  },

  resourceGroupNotFound(resourceGroupName: string): EmulatorError {
    return new EmulatorError(
      404,
      "ResourceGroupNotFound",
      `Resource group '${resourceGroupName}' could not be found.`,
    );
  },

  /** ARM's shape for a missing tracked resource (workspace, storage account). */
  armResourceNotFound(
    resourceType: string,
    name: string,
    resourceGroupName: string,
  ): EmulatorError {
    return new EmulatorError(
      404,
      "ResourceNotFound",
      `The Resource '${resourceType}/${name}' under resource group '${resourceGroupName}' was not found. ` +
        ARM_NOT_FOUND_HINT,
    );
  },

  /** Azure ML's (MFE) shape for a missing asset, compute, datastore or operation. */
  mlNotFound(what: string): EmulatorError {
    return new EmulatorError(404, "UserError", `Not found: ${what}`, {
      innerErrorCode: "NotFound",
    });
  },

  invalidResourceType(resourceType: string, apiVersion: string | undefined): EmulatorError {
    return new EmulatorError(
      404,
      "InvalidResourceType",
      `The resource type '${resourceType}' could not be found in the namespace ` +
        `'Microsoft.MachineLearningServices' for api version '${apiVersion ?? ""}'.`,
    );
  },

  routeNotFound(method: string, path: string): EmulatorError {
    return new EmulatorError(
      404,
      "NotFound",
      `No route for ${method} ${path}. The emulator serves the Azure ML ARM API under /subscriptions/...`,
    );
  },

  methodNotAllowed(method: string, allowed: readonly string[]): EmulatorError {
    return new EmulatorError(
      405,
      "MethodNotAllowed",
      `The requested resource does not support http method '${method}'.`,
      { headers: { Allow: allowed.join(", ") } },
    );
  },

  /** A resource type Azure ML serves and the emulator does not (spec/unservedTypes.ts). */
  resourceTypeNotServed(resourceType: string): EmulatorError {
    return new EmulatorError(
      501,
      "NotImplemented",
      `The resource type '${resourceType}' of 'Microsoft.MachineLearningServices' exists on Azure, ` +
        "but the emulator does not serve it (see the emulator's DIFFERENCES.md).",
    );
  },

  notImplemented(operationId: string): EmulatorError {
    return new EmulatorError(
      501,
      "NotImplemented",
      `The emulator does not implement the operation '${operationId}'.`,
    );
  },

  invalidRequestContent(reason: string): EmulatorError {
    return new EmulatorError(
      400,
      "InvalidRequestContent",
      `The request content was invalid and could not be deserialized: ${reason}`,
    );
  },

  unsupportedMediaType(contentType: string): EmulatorError {
    return new EmulatorError(
      415,
      "UnsupportedMediaType",
      `The content media type '${contentType}' is not supported. Only 'application/json' is supported.`,
    );
  },

  requestTooLarge(limitInBytes: number): EmulatorError {
    return new EmulatorError(
      413,
      "RequestEntityTooLarge",
      `The request content is larger than ${limitInBytes} bytes.`,
    );
  },

  invalidName(parameter: string, value: string, rule: string): EmulatorError {
    return new EmulatorError(
      400,
      "UserError",
      `${parameter}: '${value}' is not a valid name. It must match ${rule}.`,
      { target: parameter, innerErrorCode: "BadArgument" },
    );
  },

  /** Request-body schema violations, all listed in `details`. */
  validationFailed(violations: readonly { path: string; message: string }[]): EmulatorError {
    const details = violations.map((v) => ({
      code: "UserError",
      message: `${v.path}: ${v.message}`,
      target: v.path,
    }));
    return new EmulatorError(400, "UserError", details.map((d) => d.message).join("; "), {
      target: violations[0]?.path,
      details,
      innerErrorCode: "BadArgument",
    });
  },

  badArgument(message: string, target?: string): EmulatorError {
    return new EmulatorError(400, "UserError", message, { target, innerErrorCode: "BadArgument" });
  },

  /** What azure-ai-ml reports as `(UserError) Asset paths cannot be updated.` */
  assetPathImmutable(field: string): EmulatorError {
    return new EmulatorError(400, "UserError", "Asset paths cannot be updated.", {
      target: `properties.${field}`,
      innerErrorCode: "BadArgument",
    });
  },

  assetVersionConflict(
    kindLabel: string,
    name: string,
    version: string,
    fields: string[],
  ): EmulatorError {
    return new EmulatorError(
      409,
      "UserError",
      `${kindLabel} ${name} version ${version} is already registered and cannot be changed ` +
        `(changed: ${fields.join(", ")}). Register a new version instead.`,
      {
        target: fields[0] === undefined ? undefined : `properties.${fields[0]}`,
        innerErrorCode: "Conflict",
      },
    );
  },

  /** A data container's dataType is fixed by its first version (or PUT). */
  dataTypeImmutable(name: string, current: string, requested: string): EmulatorError {
    return new EmulatorError(
      409,
      "UserError",
      `Data container ${name} holds ${current} data; its dataType cannot change to ${requested}. ` +
        `Register the ${requested} data under another name.`,
      { target: "properties.dataType", innerErrorCode: "Conflict" },
    );
  },

  invalidModelVersion(version: string): EmulatorError {
    return new EmulatorError(
      400,
      "UserError",
      `Model version '${version}' is not valid: model versions must be positive integers.`,
      { target: "version", innerErrorCode: "BadArgument" },
    );
  },

  conflict(message: string, target?: string): EmulatorError {
    return new EmulatorError(409, "Conflict", message, { target });
  },

  throttled(retryAfter: string): EmulatorError {
    return new EmulatorError(
      429,
      "TooManyRequests",
      "The request is being throttled as the limit has been reached for operation type. " +
        `Please retry after ${retryAfter} seconds.`,
      { headers: { "Retry-After": retryAfter } },
    );
  },

  internal(
    message = "An internal server error occurred. Please retry the request.",
  ): EmulatorError {
    return new EmulatorError(500, "InternalServerError", message);
  },

  storageUnavailable(reason: string): EmulatorError {
    return new EmulatorError(
      503,
      "ServiceUnavailable",
      `The workspace storage is not reachable: ${reason}`,
      { headers: { "Retry-After": "1" } },
    );
  },
};

function wwwAuthenticate(): string {
  return 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"';
}
