/**
 * The errors the local SNS endpoint answers with, named and worded as real SNS does, so
 * that the AWS SDK turns them into the same exceptions a backend sees in AWS.
 *
 * How `@aws-sdk/client-sns` (3.116x) names them: a modeled code becomes its exception
 * class (`InvalidParameter` → `InvalidParameterException`, `ParameterValueInvalid` →
 * `InvalidParameterValueException`, `NotFound` → `NotFoundException`, …); a code SNS's
 * model does not list (`InvalidAction`, `MissingAction`, `ValidationError`) becomes an
 * `SNSServiceException` whose `name` is the code itself.
 *
 * Where SNS's exact wording is not known (marked so below), the text follows the style
 * of the messages that are.
 */

export type SnsFaultType = 'Sender' | 'Receiver';

export interface SnsError {
  /** HTTP status of the error response. */
  readonly status: number;
  /** `Sender`: the request was wrong. `Receiver`: the service failed. */
  readonly type: SnsFaultType;
  /** SNS's error code, e.g. `InvalidParameter`. */
  readonly code: string;
  readonly message: string;
}

function sender(code: string, message: string, status = 400): SnsError {
  return { status, type: 'Sender', code, message };
}

/** Constructors for the error responses real SNS gives, with its wording. */
export const snsErrors = {
  /** `InvalidParameterException`; SNS words these `Invalid parameter: …`. */
  invalidParameter: (detail: string): SnsError =>
    sender('InvalidParameter', `Invalid parameter: ${detail}`),
  /** `InvalidParameterValueException` (message attribute problems). */
  parameterValueInvalid: (message: string): SnsError => sender('ParameterValueInvalid', message),
  /** A parameter whose bytes are not UTF-8 (wording not SNS's own, which is not known). */
  notUtf8: (parameter: string): SnsError =>
    sender(
      'InvalidParameter',
      `Invalid parameter: ${parameter} Reason: the value is not valid UTF-8`,
    ),
  /** No `Authorization` header (nor a presigned query): AWS's 403 for unsigned requests. */
  missingAuthenticationToken: (): SnsError =>
    sender('MissingAuthenticationToken', 'Request is missing Authentication Token', 403),
  /**
   * An `Authorization` header that is not a SigV4 one. AWS lists `IncompleteSignature`
   * with status 400 among its common errors; the wording follows the SigV4 parser's.
   */
  incompleteSignature: (missing: readonly string[], header: string): SnsError =>
    sender(
      'IncompleteSignature',
      `${missing.map((part) => `Authorization header requires '${part}' parameter.`).join(' ')} Authorization=${header}`,
    ),
  /** Smithy-style model validation: a required member is absent. */
  validation: (path: string): SnsError =>
    sender(
      'ValidationError',
      `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`,
    ),
  notFound: (): SnsError => sender('NotFound', 'Topic does not exist', 404),
  invalidAction: (action: string): SnsError =>
    sender(
      'InvalidAction',
      `The action ${action} is not valid for this web service (this local endpoint supports Publish and PublishBatch).`,
    ),
  missingAction: (): SnsError =>
    sender('MissingAction', 'The request must contain the parameter Action.'),
  emptyBatch: (): SnsError =>
    sender('EmptyBatchRequest', "The batch request doesn't contain any entries."),
  tooManyEntries: (): SnsError =>
    sender(
      'TooManyEntriesInBatchRequest',
      'The batch request contains more entries than permissible.',
    ),
  batchIdsNotDistinct: (): SnsError =>
    sender(
      'BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    ),
  invalidBatchEntryId: (detail: string): SnsError =>
    sender('InvalidBatchEntryId', `The Id of a batch entry in the batch request ${detail}`),
  batchTooLong: (): SnsError =>
    sender(
      'BatchRequestTooLong',
      'The length of all the messages put together is more than the limit.',
    ),
  methodNotAllowed: (method: string): SnsError =>
    sender(
      'MethodNotAllowed',
      `The HTTP method ${method} is not allowed: send SNS actions with POST`,
      405,
    ),
  noSuchPath: (path: string): SnsError =>
    sender('NotFound', `No SNS endpoint at ${path}: use /sns`, 404),
  requestTooLarge: (limit: number): SnsError =>
    sender('RequestEntityTooLarge', `The request body is larger than ${limit} bytes.`, 413),
  internal: (): SnsError => ({
    status: 500,
    type: 'Receiver',
    code: 'InternalError',
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  }),
} as const;
