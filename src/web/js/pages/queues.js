// @ts-check
// 工作队列.
import { start } from '../nav.js';

await start('/queues');
