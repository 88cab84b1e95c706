import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SsePubSub, type SsePubSubProps } from '../../lib/index.js';

/** A fresh app that skips bundling: these tests read the template, not the bundle. */
export function newApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** Props, or a function of the test stack that makes them (for resources they refer to). */
export type PropsInStack = SsePubSubProps | ((stack: Stack) => SsePubSubProps);

export function buildConstruct(props?: PropsInStack): { stack: Stack; pubSub: SsePubSub } {
  const stack = new Stack(newApp(), 'TestStack');
  const resolved = typeof props === 'function' ? props(stack) : props;
  return { stack, pubSub: new SsePubSub(stack, 'PubSub', resolved) };
}

export function synthConstruct(props?: PropsInStack): Template {
  return Template.fromStack(buildConstruct(props).stack);
}

export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
  });
  return Object.values(policies).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

/** Every action the role's policies allow, flattened. */
export function roleActions(template: Template, rolePrefix: string): string[] {
  return roleStatements(template, rolePrefix).flatMap(actionsOf);
}

/** The properties of the one resource of `type` whose logical id starts with `idPrefix`. */
export function resourceProperties(template: Template, type: string, idPrefix: string) {
  const matches = Object.entries(template.findResources(type)).filter(([id]) =>
    new RegExp(`^${idPrefix}[0-9A-F]{8}$`).test(id),
  );
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} named ${idPrefix}…, found ${matches.length}`);
  }
  return matches[0]?.[1].Properties;
}

interface CopyProperties {
  readonly BuildConfig: { CodeConfig: { S3Object: { Key: { 'Fn::GetAtt': [string, string] } } } };
  readonly ContentHash: string;
}

/**
 * The staged folder of the Web Function server's bundle in a synthesized cloud assembly
 * (`cdk.out`): the revision's code key comes from the copy custom resource
 * (`Custom::S3ObjectCopy`), whose `ContentHash` is the asset's hash, and the stack's asset
 * manifest maps that hash to its folder (`asset.<hash>`, holding `index.mjs`).
 */
export function webServerBundleDir(
  assemblyDir: string,
  stackName: string,
  template: Template,
): string {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: CopyProperties }
  >;
  const revisions = Object.values(resources).filter(
    (resource) => resource.Type === 'AWS::Lambda::WebFunctionRevision',
  );
  if (revisions.length !== 1) throw new Error(`expected one revision, found ${revisions.length}`);
  const copyId = revisions[0]?.Properties.BuildConfig.CodeConfig.S3Object.Key['Fn::GetAtt'][0];
  const hash = copyId === undefined ? undefined : resources[copyId]?.Properties.ContentHash;
  const manifest = JSON.parse(
    readFileSync(join(assemblyDir, `${stackName}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  const path = hash === undefined ? undefined : manifest.files[hash]?.source.path;
  if (typeof path !== 'string') throw new Error(`no asset ${hash} in the manifest`);
  return join(assemblyDir, path);
}
