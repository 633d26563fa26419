/**
 * Error serializer: turns anything thrown further down the chain into an ARM error response.
 * It sits first in the list so that it wraps every later middleware.
 */
import { ErrorFactory, isEmulatorError } from "../errors";
import { writeResponse, type Middleware } from "./pipeline";

export const errorSerializerMiddleware: Middleware = {
  name: "errorSerializer",
  async handle(ctx, next) {
    try {
      await next();
    } catch (e) {
      if (ctx.responded === true || ctx.res.headersSent) {
        ctx.res.destroy();
        return;
      }
      const error = isEmulatorError(e)
        ? e
        : ErrorFactory.internal(`Unexpected emulator error: ${(e as Error)?.message ?? String(e)}`);
      writeResponse(ctx, error.statusCode, error.toBody(), error.headers);
    }
  },
};
