import type * as pulumi from "@pulumi/pulumi";

/**
 * The methods every lifecycle module exports. The provider object only forwards to them, so that
 * the serialized `__provider` text holds nothing but the module's package specifier.
 */
export interface LifecycleModule<Inputs, Outputs> {
  check(
    olds: Inputs,
    news: Inputs,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.CheckResult<Inputs>>;
  diff(
    id: string,
    olds: Outputs,
    news: Inputs,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.DiffResult>;
  create(
    inputs: Inputs,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.CreateResult<Outputs>>;
  read(
    id: string,
    props: Outputs,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.ReadResult<Outputs>>;
  update(
    id: string,
    olds: Outputs,
    news: Inputs,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.UpdateResult<Outputs>>;
  delete(id: string, props: Outputs, config?: pulumi.dynamic.Config): Promise<void>;
}

/**
 * Builds a dynamic provider whose every method is `await import(<package specifier>)` of a lifecycle
 * module. Pulumi serializes the provider into each resource's `__provider`; capturing only a string
 * keeps that text small, identical on every machine, free of paths and credentials, and lets a stack
 * created from one checkout be refreshed or destroyed from another (the specifier resolves from the
 * Pulumi project directory, where the package is installed).
 *
 * `configure` keeps the host's stack config object (never serialized: it only exists inside the
 * provider host) and assigns it synchronously, because the host may call other methods before
 * `configure` settles.
 */
export function lazyProvider<Inputs, Outputs>(
  lifecycleModule: string,
): pulumi.dynamic.ResourceProvider<Inputs, Outputs> {
  return {
    async configure(req) {
      (this as { config?: pulumi.dynamic.Config }).config = req.config;
    },
    async check(olds, news) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.check(olds, news, (this as { config?: pulumi.dynamic.Config }).config);
    },
    async diff(id, olds, news) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.diff(id, olds, news, (this as { config?: pulumi.dynamic.Config }).config);
    },
    async create(inputs) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.create(inputs, (this as { config?: pulumi.dynamic.Config }).config);
    },
    async read(id, props) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.read(id, props as Outputs, (this as { config?: pulumi.dynamic.Config }).config);
    },
    async update(id, olds, news) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.update(id, olds, news, (this as { config?: pulumi.dynamic.Config }).config);
    },
    async delete(id, props) {
      const impl: LifecycleModule<Inputs, Outputs> = await import(lifecycleModule);
      return impl.delete(id, props, (this as { config?: pulumi.dynamic.Config }).config);
    },
  };
}
