import { MemoryEventLog } from '../../functions/core/memory-event-log.js';
import { describeEventLogContract } from './event-log-contract.js';

describeEventLogContract('MemoryEventLog', (options) => new MemoryEventLog(options));
