/** Where the local stack serves, unless configured otherwise (README, "Quick start"). */
export const DEFAULT_PORT = 8787;
export const DEFAULT_LOCAL_BASE_URL = `http://127.0.0.1:${DEFAULT_PORT}`;
/** The one topic the local stack's `POST /sns` accepts. */
export const DEFAULT_LOCAL_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:sse-pubsub-local';
/** Where the local stack keeps its data, relative to the folder `npm start` runs in. */
export const DEFAULT_DATA_DIR = '.data';
/** The local stack's event-log table when `TABLE_NAME` is unset. */
export const DEFAULT_LOCAL_TABLE_NAME = 'sse-pubsub-events';
