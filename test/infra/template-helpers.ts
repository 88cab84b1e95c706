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
